using Microsoft.Extensions.DependencyInjection;
using ModelService.Api.Training;

namespace ModelService.Api.Tests;

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

    [Fact]
    public async Task After_a_crash_running_jobs_fail_and_queued_jobs_run()
    {
        string interrupted, waiting;
        using (var first = new ModelServiceFactory(null, _storage))
        {
            var client = first.CreateClient();
            var dataset = (await client.UploadCsvAsync(TestData.HousesCsv(100, seed: 9))).GetProperty("id").GetString();
            // Jobs written straight to the store, as a process that died mid-way would have left them.
            var store = first.Services.GetRequiredService<JobStore>();
            var request = new TrainingRequest
            {
                DatasetId = dataset, Target = "price", Features = ["square_footage", "rooms"], HiddenChannels = [4], Activation = "relu",
                Dropout = 0, BatchNorm = false, Epochs = 1, BatchSize = 32, LearningRate = 0.01, Optimizer = "adam", WeightDecay = 0,
                ValidationFraction = 0.2, Seed = 1, Activate = false,
            };
            interrupted = store.Create(request).Id;
            Assert.True(store.TryStart(interrupted));
            waiting = store.Create(request).Id;
        }

        using var second = new ModelServiceFactory(null, _storage);
        var restarted = second.CreateClient();

        var failed = await restarted.GetJsonAsync($"/api/v1/training-jobs/{interrupted}");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("interrupted by restart", failed.GetProperty("error").GetString());
        var rerun = await restarted.WaitForJobAsync(waiting);
        Assert.Equal("succeeded", rerun.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Shutdown_cancels_the_running_job_and_leaves_queued_jobs_for_the_next_start()
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

        var job = await restarted.GetJsonAsync($"/api/v1/training-jobs/{running}");
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        Assert.Equal("cancelled by shutdown", job.GetProperty("error").GetString());
        Assert.Equal("succeeded", (await restarted.WaitForJobAsync(queued)).GetProperty("status").GetString());
    }
}
