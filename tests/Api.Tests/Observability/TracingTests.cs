using System.Net;
using System.Net.Sockets;
using System.Text;
using ModelService.Api.Tests.OutOfProcess;

namespace ModelService.Api.Tests.Observability;

/// <summary>Traces leave over OTLP when the OpenTelemetry SDK's own variables say where, as an operator sets them on the
/// process.</summary>
[Collection(nameof(ServiceProcessesRunAlone))]
public sealed class TracingTests : IDisposable
{
    private readonly string _storage = ModelServiceFactory.NewStorageFolder();

    public void Dispose() => ModelServiceFactory.DeleteStorage(_storage);

    [Fact]
    public async Task Request_and_training_spans_are_exported_to_the_collector_the_otel_variables_name()
    {
        var port = FreePort();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        using var service = await ServiceProcess.StartAsync(_storage, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "modelservice-under-test",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        var dataset = await service.Client.UploadCsvAsync(TestData.HousesCsv(100, seed: 8));
        var job = await service.Client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 1, activate = false });
        var jobId = job.GetProperty("id").GetString()!;

        var traces = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!new[] { "modelservice-under-test", "/api/v1/training-jobs", "training job", jobId }.All(Contains(traces)))
        {
            var context = await collector.GetContextAsync().WaitAsync(timeout.Token);
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body, timeout.Token);
            // Metrics arrive too, at /v1/metrics; only the traces matter here.
            if (context.Request.Url!.AbsolutePath == "/v1/traces")
            {
                Assert.Equal("application/x-protobuf", context.Request.ContentType);
                // Protobuf keeps strings as UTF-8 bytes, so span names and attribute values can be found in the payload.
                traces.Append(Encoding.UTF8.GetString(body.ToArray()));
            }
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    [Fact]
    public async Task An_otlp_endpoint_that_is_not_an_http_uri_stops_start_up_naming_the_variable()
    {
        var (exitCode, output) = await ServiceProcess.RunUntilExitAsync(_storage,
            new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "collector:4317" }, TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT must be an http or https URI", output, StringComparison.Ordinal);
    }

    private static Func<string, bool> Contains(StringBuilder text) => value => text.ToString().Contains(value, StringComparison.Ordinal);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
