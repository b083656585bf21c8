using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelService.Api.Training;

namespace ModelService.Api.Tests.Storage;

/// <summary>A second service on the same storage folder plays the restarted process.</summary>
public sealed class RestartTests : IDisposable
{
    private readonly string _storage = ModelServiceFactory.NewStorageFolder();

    public void Dispose() => ModelServiceFactory.DeleteStorage(_storage);

    [Fact]
    public async Task Datasets_models_the_active_model_and_jobs_survive_a_restart()
    {
        string datasets, models, active, jobs;
        double[] before;
        object probe = new { instances = new[] { new[] { 0.3, 0.6 } } };
        using (var first = new ModelServiceFactory(null, _storage))
        {
            var client = first.CreateClient();
            var dataset = (await client.UploadCsvAsync(TestData.HousesCsv(200, seed: 9))).GetProperty("id").GetString();
            await client.TrainAsync(new { datasetId = dataset, target = "price", epochs = 2, activate = true });
            datasets = (await client.GetJsonAsync("/api/v1/datasets")).ToString();
            models = (await client.GetJsonAsync("/api/v1/models")).ToString();
            active = (await client.GetJsonAsync("/api/v1/models/active")).ToString();
            jobs = (await client.GetJsonAsync("/api/v1/training-jobs")).ToString();
            before = await client.PredictAsync(probe);
        }

        using var second = new ModelServiceFactory(null, _storage);
        var restarted = second.CreateClient();

        Assert.Equal(datasets, (await restarted.GetJsonAsync("/api/v1/datasets")).ToString());
        Assert.Equal(models, (await restarted.GetJsonAsync("/api/v1/models")).ToString());
        Assert.Equal(active, (await restarted.GetJsonAsync("/api/v1/models/active")).ToString());
        Assert.Equal(jobs, (await restarted.GetJsonAsync("/api/v1/training-jobs")).ToString());
        Assert.Equal(before, await restarted.PredictAsync(probe));
    }

    /// <summary>Queues two jobs and claims the first for a worker that then "dies" (the service stops without running
    /// it: Training:RunJobs is off), as a crash mid-job leaves the store.</summary>
    private async Task<(string Interrupted, string Waiting)> CrashMidJobAsync()
    {
        using var first = new ModelServiceFactory(new Dictionary<string, string?> { ["Training:RunJobs"] = "false" }, _storage);
        var client = first.CreateClient();
        var dataset = (await client.UploadCsvAsync(TestData.HousesCsv(100, seed: 9))).GetProperty("id").GetString();
        var store = first.Services.GetRequiredService<IJobStore>();
        var interrupted = store.Create(TestData.SmallTrainingRequest(dataset), 10).Job!.Id;
        Assert.Equal(interrupted, store.TryClaim("crashed-worker", TimeSpan.FromMinutes(5))?.JobId);
        var waiting = store.Create(TestData.SmallTrainingRequest(dataset), 10).Job!.Id;
        return (interrupted, waiting);
    }

    [Fact]
    public async Task After_a_crash_the_running_job_is_queued_again_and_runs_as_a_second_attempt()
    {
        var (interrupted, waiting) = await CrashMidJobAsync();

        using var second = new ModelServiceFactory(new Dictionary<string, string?> { ["Cluster:InstanceName"] = "restarted" }, _storage);
        var restarted = second.CreateClient();

        var rerun = await restarted.WaitForJobAsync(interrupted);
        Assert.Equal("succeeded", rerun.GetProperty("status").GetString());
        Assert.Equal(2, rerun.GetProperty("attempts").GetInt32());
        Assert.Equal("restarted", rerun.GetProperty("worker").GetString());
        var next = await restarted.WaitForJobAsync(waiting);
        Assert.Equal("succeeded", next.GetProperty("status").GetString());
        Assert.Equal(1, next.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task A_job_interrupted_on_its_last_attempt_fails_with_an_error_that_says_so()
    {
        var (interrupted, waiting) = await CrashMidJobAsync();

        using var second = new ModelServiceFactory(new Dictionary<string, string?> { ["Training:MaxAttempts"] = "1" }, _storage);
        var restarted = second.CreateClient();

        var failed = await restarted.WaitForJobAsync(interrupted);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("Training:MaxAttempts", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("modelId").ValueKind);
        Assert.Equal("succeeded", (await restarted.WaitForJobAsync(waiting)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Shutdown_hands_the_running_job_back_to_the_queue_for_the_next_start()
    {
        string running, queued;
        using (var first = new ModelServiceFactory(null, _storage))
        {
            var client = first.CreateClient();
            var dataset = (await client.UploadCsvAsync(TestData.HousesCsv(2000, seed: 9))).GetProperty("id").GetString();
            running = (await client.SubmitAsync(new { datasetId = dataset, target = "price", epochs = 1000, batchSize = 1 })).GetProperty("id").GetString()!;
            queued = (await client.SubmitAsync(new { datasetId = dataset, target = "price", epochs = 1 })).GetProperty("id").GetString()!;
            await client.WaitForJobAsync(running, j => j.GetProperty("status").GetString() == "running");
        }

        using var second = new ModelServiceFactory(null, _storage);
        var restarted = second.CreateClient();

        var job = await restarted.WaitForJobAsync(running, j => j.GetProperty("status").GetString() == "running");
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("error").ValueKind);
        await restarted.PostAsync(new Uri($"/api/v1/training-jobs/{running}/cancel", UriKind.Relative), null);
        Assert.Equal("cancelled", (await restarted.WaitForJobAsync(running)).GetProperty("status").GetString());
        Assert.Equal("succeeded", (await restarted.WaitForJobAsync(queued)).GetProperty("status").GetString());
    }
}
