using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace ModelService.Api.Tests.Observability;

/// <summary>Traces leave over OTLP only when Observability:OtlpEndpoint is set.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task Request_and_training_spans_are_exported_to_the_configured_collector()
    {
        var port = FreePort();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        using var factory = new ModelServiceFactory(new Dictionary<string, string?>
        {
            ["Observability:OtlpEndpoint"] = $"http://127.0.0.1:{port}",
            ["Observability:OtlpProtocol"] = "http/protobuf",
        });
        var client = factory.CreateClient();
        var dataset = await client.UploadCsvAsync(TestData.HousesCsv(100, seed: 8));
        var job = await client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 1, activate = false });
        var jobId = job.GetProperty("id").GetString()!;

        var exported = new StringBuilder();
        var flush = Task.Run(() => factory.Services.GetRequiredService<TracerProvider>().ForceFlush(30_000));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!(Contains(exported, "/api/v1/training-jobs") && Contains(exported, "training job") && Contains(exported, jobId)))
        {
            var context = await collector.GetContextAsync().WaitAsync(timeout.Token);
            Assert.Equal("/v1/traces", context.Request.Url!.AbsolutePath);
            Assert.Equal("application/x-protobuf", context.Request.ContentType);
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body, timeout.Token);
            // Protobuf keeps strings as UTF-8 bytes, so span names and attribute values can be found in the payload.
            exported.Append(Encoding.UTF8.GetString(body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
        Assert.True(await flush);
    }

    [Fact]
    public void An_endpoint_that_is_not_a_uri_stops_start_up()
    {
        using var factory = new ModelServiceFactory(new Dictionary<string, string?> { ["Observability:OtlpEndpoint"] = "collector:4317" });

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("Observability:OtlpEndpoint", error.Message, StringComparison.Ordinal);
    }

    private static bool Contains(StringBuilder text, string value) => text.ToString().Contains(value, StringComparison.Ordinal);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
