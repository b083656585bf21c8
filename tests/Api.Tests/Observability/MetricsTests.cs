using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelService.Api.Tests.Observability;

/// <summary>Meters are matched by name across every host in the process, so the metrics test runs alone.</summary>
[CollectionDefinition(nameof(MetricsRunAlone), DisableParallelization = true)]
public sealed class MetricsRunAlone;

/// <summary>GET /metrics: Prometheus text with the service's and the runtime's metrics.</summary>
[Collection(nameof(MetricsRunAlone))]
public sealed class MetricsTests : IDisposable
{
    private readonly ModelServiceFactory _factory = new();

    [Fact]
    public async Task Metrics_cover_requests_predictions_models_jobs_and_the_runtime()
    {
        var client = _factory.CreateClient();
        var dataset = await client.UploadCsvAsync(TestData.HousesCsv(200, seed: 6));
        await client.TrainAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 3, activate = false });
        await client.PredictAsync(new { instances = new[] { new[] { 0.5, 0.5 }, new[] { 0.2, 0.1 }, new[] { 0.9, 0.9 } } });
        var activeId = (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();

        var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.IsSuccessStatusCode, text);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Matches(@"(?m)^http_server_request_duration_seconds_bucket\{.*http_route=""/api/v1/predictions/"".*\} \d+", text);
        Assert.Matches(@"(?m)^http_server_request_duration_seconds_count\{.*http_route=""/api/v1/training-jobs/\{id\}"".*\} \d+", text);
        Assert.Equal(3, Value(text, @"modelservice_predicted_rows_total\{[^}]*api=""v1""[^}]*\}"));
        Assert.Equal(1, Value(text, $@"modelservice_active_model_info\{{[^}}]*model_id=""{activeId}""[^}}]*\}}"));
        Assert.Equal(1, Value(text, @"modelservice_training_jobs\{[^}]*state=""succeeded""[^}]*\}"));
        Assert.Equal(0, Value(text, @"modelservice_training_jobs\{[^}]*state=""running""[^}]*\}"));
        Assert.Equal(0, Value(text, @"modelservice_training_queue_depth(\{[^}]*\})?"));
        Assert.Equal(3, Value(text, @"modelservice_training_epoch_duration_seconds_count(\{[^}]*\})?"));
        Assert.Contains("# TYPE dotnet_gc_collections_total counter", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE dotnet_process_memory_working_set_bytes gauge", text, StringComparison.Ordinal);
        // The resource, with the service name that OTEL_SERVICE_NAME overrides.
        Assert.Matches(@"(?m)^target_info\{[^}]*service_name=""modelservice""", text);
        AssertPromtoolAccepts(text);
    }

    public void Dispose() => _factory.Dispose();

    private static double Value(string text, string series)
    {
        var match = Regex.Match(text, $@"(?m)^{series} (\S+)$");
        Assert.True(match.Success, $"No series matching {series} in:\n{text}");
        return double.Parse(match.Groups[match.Groups.Count - 1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>promtool (Debian package prometheus) lints the exposition when it is installed; the browser check script
    /// installs it on CI.</summary>
    private static void AssertPromtoolAccepts(string text)
    {
        var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);
        if (promtool is null)
        {
            return;
        }
        using var process = Process.Start(new ProcessStartInfo(promtool, ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.StandardInput.Write(text);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"promtool check metrics failed ({process.ExitCode}):\n{output}");
    }
}
