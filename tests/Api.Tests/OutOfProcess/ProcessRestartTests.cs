using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace ModelService.Api.Tests.OutOfProcess;

/// <summary>The service as a real OS process on a temporary storage folder: killed hard or stopped with SIGTERM
/// mid-training, then started again on the same folder.</summary>
[Collection(nameof(ServiceProcessesRunAlone))]
public sealed class ProcessRestartTests : IDisposable
{
    private static readonly object Probe = new { instances = new[] { new[] { 0.1, 0.2 }, new[] { 0.5, 0.5 }, new[] { 0.9, 0.3 } } };

    private readonly ITestOutputHelper _log;
    private readonly string _storage = ModelServiceFactory.NewStorageFolder();
    private readonly List<ServiceProcess> _services = [];

    public ProcessRestartTests(ITestOutputHelper log) => _log = log;

    public void Dispose()
    {
        foreach (var service in _services)
        {
            service.Dispose();
        }
        ModelServiceFactory.DeleteStorage(_storage);
    }

    [Fact]
    public async Task After_kill_9_mid_training_the_restarted_service_keeps_everything_finished_and_runs_the_interrupted_job_again()
    {
        await WithServiceOutputAsync(async () =>
        {
            var first = await StartAsync();
            var client = first.Client;
            var small = (await client.UploadCsvAsync(TestData.HousesCsv(200, seed: 9), "small")).GetProperty("id").GetString();
            var large = (await client.UploadCsvAsync(TestData.HousesCsv(2000, seed: 10), "large")).GetProperty("id").GetString();
            var finished = await client.TrainAsync(new { datasetId = small, target = "price", epochs = 2, activate = true });
            var modelId = finished.GetProperty("modelId").GetString();
            Assert.Equal(modelId, (await client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString());
            var predictions = await PredictRawAsync(client);
            var datasets = (await client.GetJsonAsync("/api/v1/datasets")).GetRawText();
            var models = (await client.GetJsonAsync("/api/v1/models")).GetRawText();
            var finishedJob = (await client.GetJsonAsync($"/api/v1/training-jobs/{finished.GetProperty("id").GetString()}")).GetRawText();
            var running = await StartLongJobAsync(client, large);

            first.KillHard();
            var second = await StartAsync();
            var restarted = second.Client;

            var after = await PredictRawAsync(restarted);
            _log.WriteLine($"predictions before kill: [{string.Join(", ", predictions)}]; after restart: [{string.Join(", ", after)}]");
            Assert.Equal(modelId, (await restarted.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString());
            Assert.Equal(predictions, after);
            Assert.Equal(datasets, (await restarted.GetJsonAsync("/api/v1/datasets")).GetRawText());
            Assert.Equal(models, (await restarted.GetJsonAsync("/api/v1/models")).GetRawText());
            Assert.Equal(finishedJob, (await restarted.GetJsonAsync($"/api/v1/training-jobs/{finished.GetProperty("id").GetString()}")).GetRawText());
            var jobIds = (await restarted.GetJsonAsync("/api/v1/training-jobs")).EnumerateArray().Select(j => j.GetProperty("id").GetString()).ToList();
            Assert.Equal([running, finished.GetProperty("id").GetString()], jobIds);
            var interrupted = await restarted.WaitForJobAsync(running, j => j.GetProperty("status").GetString() != "queued");
            _log.WriteLine($"job {running} after restart: status {interrupted.GetProperty("status")}, attempts {interrupted.GetProperty("attempts")}");
            Assert.Equal("running", interrupted.GetProperty("status").GetString());
            Assert.Equal(2, interrupted.GetProperty("attempts").GetInt32());
            Assert.Equal(JsonValueKind.Null, interrupted.GetProperty("error").ValueKind);
            Assert.Equal(JsonValueKind.Null, interrupted.GetProperty("modelId").ValueKind);
        });
    }

    [Fact]
    public async Task Sigterm_mid_training_exits_cleanly_and_the_restarted_service_runs_the_handed_back_job()
    {
        await WithServiceOutputAsync(async () =>
        {
            var first = await StartAsync();
            var dataset = (await first.Client.UploadCsvAsync(TestData.HousesCsv(2000, seed: 10))).GetProperty("id").GetString();
            var running = await StartLongJobAsync(first.Client, dataset);

            Assert.True(await first.TerminateAsync(TimeSpan.FromSeconds(30)), "The service did not exit within 30 s of SIGTERM.");
            Assert.Equal(0, first.ExitCode);
            var second = await StartAsync();

            var job = await second.Client.WaitForJobAsync(running, j => j.GetProperty("status").GetString() != "queued");
            _log.WriteLine($"exit code after SIGTERM: {first.ExitCode}; job {running} after restart: status {job.GetProperty("status")}, error \"{job.GetProperty("error")}\"");
            Assert.Equal("running", job.GetProperty("status").GetString());
            Assert.Equal(1, job.GetProperty("attempts").GetInt32());
            Assert.Equal(JsonValueKind.Null, job.GetProperty("error").ValueKind);
        });
    }

    private async Task<ServiceProcess> StartAsync()
    {
        var service = await ServiceProcess.StartAsync(_storage);
        _services.Add(service);
        return service;
    }

    /// <summary>Submits a job far too long to finish during the test and waits until it has completed an epoch.</summary>
    private static async Task<string> StartLongJobAsync(HttpClient client, string? datasetId)
    {
        var job = await client.SubmitAsync(new { datasetId, target = "price", epochs = 1000, batchSize = 1, activate = true });
        var id = job.GetProperty("id").GetString()!;
        var running = await client.WaitForJobAsync(id, j =>
            j.GetProperty("status").GetString() != "queued"
            && j.GetProperty("progress") is { ValueKind: JsonValueKind.Object } progress
            && progress.GetProperty("epoch") is { ValueKind: JsonValueKind.Number } epoch
            && epoch.GetInt32() >= 1);
        Assert.True(running.GetProperty("status").GetString() == "running", $"Expected the long job to be running: {running}");
        return id;
    }

    /// <summary>The predictions exactly as the service wrote them, so that a comparison is bit for bit.</summary>
    private static async Task<string[]> PredictRawAsync(HttpClient client)
    {
        var response = await client.PostAsJsonAsync("/api/v1/predictions", Probe);
        var body = await ServiceApi.ExpectAsync(response, HttpStatusCode.OK);
        return [.. body.GetProperty("predictions").EnumerateArray().Select(p => p.GetRawText())];
    }

    private async Task WithServiceOutputAsync(Func<Task> test)
    {
        try
        {
            await test();
        }
        catch (Exception e)
        {
            var output = string.Join("\n", _services.Select((s, i) => $"--- service process {i + 1} (pid {s.Id}) ---\n{s.Output}"));
            throw new Xunit.Sdk.XunitException($"{e.Message}\n{output}", e);
        }
    }
}
