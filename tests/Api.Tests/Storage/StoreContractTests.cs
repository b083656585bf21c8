using System.Net;
using Microsoft.Extensions.DependencyInjection;
using ModelService.Api.Datasets;
using ModelService.Api.Storage;
using ModelService.Api.Tests.Datasets;
using ModelService.Api.Models;
using ModelService.Api.Sweeps;
using ModelService.Api.Training;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Tests.Storage;

/// <summary>What every storage provider promises, run unchanged against each (the subclasses below). Each test gets a
/// fresh store; the service runs with Training:RunJobs off, so the tests play the workers. One file so that a new
/// provider gets every promise by adding one subclass.</summary>
#pragma warning disable CA1001 // The factory is disposed by DisposeAsync (IAsyncLifetime).
public abstract class StoreContractTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private static readonly TimeSpan LongLease = TimeSpan.FromMinutes(5);

    private ModelServiceFactory _factory = null!;

    protected abstract Task<Dictionary<string, string?>> ProviderSettingsAsync();

    protected virtual Task CleanupAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var settings = await ProviderSettingsAsync();
        settings["Training:RunJobs"] = "false";
        _factory = new ModelServiceFactory(settings);
        Client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await CleanupAsync();
    }

    private HttpClient Client { get; set; } = null!;

    private IDatasetStore Datasets => _factory.Services.GetRequiredService<IDatasetStore>();

    private IJobStore Jobs => _factory.Services.GetRequiredService<IJobStore>();

    private IModelStore Models => _factory.Services.GetRequiredService<IModelStore>();

    private ISweepStore Sweeps => _factory.Services.GetRequiredService<ISweepStore>();

    private async Task<string> UploadAsync(int rows = 60, int seed = 1) =>
        (await Client.UploadCsvAsync(TestData.HousesCsv(rows, seed))).GetProperty("id").GetString()!;

    private string Queue(string datasetId)
    {
        var created = Jobs.Create(TestData.SmallTrainingRequest(datasetId), 100);
        Assert.Equal(JobCreationResult.Created, created.Result);
        return created.Job!.Id;
    }

    private static TrainedModel NewModel() =>
        ModelArtifact.WithId(ModelArtifact.Load(Path.Combine(AppContext.BaseDirectory, "DefaultModel")), Ids.NewModelId(),
            new Dictionary<string, string> { ["purpose"] = "contract test" });

    [StoreFact]
    public async Task A_saved_dataset_is_listed_and_reads_back_with_its_values_and_types()
    {
        var csv = "size,kind,price\n1.5,a,100\n,b,200\n2.25,,300\n";
        var uploaded = await Client.UploadCsvAsync(csv, "mixed");
        var id = uploaded.GetProperty("id").GetString()!;

        var info = Datasets.Get(id)!;
        var table = Datasets.Load(id)!;

        Assert.Equal("mixed", info.Name);
        Assert.Equal(uploaded.GetProperty("createdAt").GetDateTimeOffset(), info.CreatedAt);
        Assert.Equal(id, Assert.Single(Datasets.List()).Id);
        Assert.Equal([1.5, double.NaN, 2.25], table.Columns[0].Numbers!);
        Assert.Equal(new string?[] { "a", "b", null }, table.Columns[1].Labels!.AsEnumerable());
        Assert.Equal([100.0, 200, 300], table.Columns[2].Numbers!);
        Assert.Null(Datasets.Get("ds_unknown0000"));
        Assert.Null(Datasets.Load("ds_unknown0000"));
    }

    [StoreFact]
    public async Task A_saved_tensor_dataset_is_listed_and_reads_back_with_its_shape_values_and_statistics()
    {
        var data = TensorSamples.PerPosition(count: 3, height: 2, width: 4, channels: 2, seed: 7);
        data.X[5] = float.NaN;
        data.Y[9] = double.NaN;
        var table = await UploadAsync();

        var info = Datasets.SaveTensor("images", data, TensorSummary.Of(data));
        var loaded = Datasets.LoadTensor(info.Id)!;
        var stored = Datasets.Get(info.Id)!;

        Assert.Equal((DatasetKind.Tensor, "images", 3), (stored.Kind, stored.Name, stored.RowCount));
        Assert.Equal([2, 4, 2], stored.Shape!);
        Assert.Equal([2, 4], stored.TargetShape!);
        Assert.Equal(1, stored.Channels![1].Missing);
        Assert.Equal(data.X.Where((v, i) => i % 2 == 1 && !float.IsNaN(v)).Max(), stored.Channels[1].Max!.Value, 6);
        Assert.Equal(1, stored.Target!.Missing);
        Assert.Equal(info, stored with { Shape = info.Shape, TargetShape = info.TargetShape, Channels = info.Channels, Columns = info.Columns });
        Assert.Equal((3, 2, 4, 2, true), (loaded.Count, loaded.Height, loaded.Width, loaded.Channels, loaded.PerPositionTarget));
        Assert.Equal(data.X, loaded.X);
        Assert.Equal(data.Y, loaded.Y);
        Assert.Equal([info.Id, table], Datasets.List().Select(d => d.Id));
        Assert.Throws<DatasetKindException>(() => Datasets.Load(info.Id));
        Assert.Throws<DatasetKindException>(() => Datasets.LoadTensor(table));
        Assert.Null(Datasets.LoadTensor("ds_unknown0000"));
        Assert.Equal(DatasetDeletion.Deleted, Datasets.Delete(info.Id));
        Assert.Null(Datasets.LoadTensor(info.Id));
    }

    [StoreFact]
    public void Equal_tensor_data_is_stored_as_equal_bytes_and_a_target_per_sample_reads_back_as_one()
    {
        var data = TensorSamples.PerSample(count: 4, height: 3, width: 3, channels: 1, seed: 2);

        var first = Datasets.SaveTensor("a", data, TensorSummary.Of(data));
        var second = Datasets.SaveTensor("b", data, TensorSummary.Of(data));
        var loaded = Datasets.LoadTensor(second.Id)!;

        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Equal([], second.TargetShape!);
        Assert.False(loaded.PerPositionTarget);
        Assert.Equal(data.Y, loaded.Y);
    }

    [StoreFact]
    public async Task A_dataset_used_by_a_queued_job_cannot_be_deleted_until_the_job_ends()
    {
        var dataset = await UploadAsync();
        var job = Queue(dataset);

        Assert.Equal(DatasetDeletion.InUse, Datasets.Delete(dataset));
        Assert.NotNull(Datasets.Get(dataset));
        Assert.True(Jobs.TryCancelQueued(job, "test"));
        Assert.Equal(DatasetDeletion.Deleted, Datasets.Delete(dataset));
        Assert.Null(Datasets.Get(dataset));
        Assert.Equal(DatasetDeletion.NotFound, Datasets.Delete(dataset));
        Assert.Equal(JobCreationResult.DatasetMissing, Jobs.Create(TestData.SmallTrainingRequest(dataset), 100).Result);
    }

    [StoreFact]
    public async Task Of_a_dataset_delete_and_a_job_submission_racing_exactly_one_wins()
    {
        for (var round = 0; round < 15; round++)
        {
            var dataset = await UploadAsync(20, round);
            using var start = new Barrier(2);
            var delete = Task.Run(() =>
            {
                start.SignalAndWait();
                return Datasets.Delete(dataset);
            });
            var submit = Task.Run(() =>
            {
                start.SignalAndWait();
                return Jobs.Create(TestData.SmallTrainingRequest(dataset), 100);
            });
            var (deleted, created) = (await delete, await submit);

            Assert.True((deleted, created.Result) is (DatasetDeletion.Deleted, JobCreationResult.DatasetMissing)
                or (DatasetDeletion.InUse, JobCreationResult.Created), $"Round {round}: delete {deleted}, submit {created.Result}");
            Assert.Equal(deleted == DatasetDeletion.InUse, Datasets.Get(dataset) is not null);
        }
    }

    [StoreFact]
    public async Task A_full_queue_refuses_a_job_and_stores_nothing()
    {
        var dataset = await UploadAsync();
        Assert.Equal(JobCreationResult.Created, Jobs.Create(TestData.SmallTrainingRequest(dataset), 2).Result);
        Assert.Equal(JobCreationResult.Created, Jobs.Create(TestData.SmallTrainingRequest(dataset), 2).Result);

        Assert.Equal(JobCreationResult.QueueFull, Jobs.Create(TestData.SmallTrainingRequest(dataset), 2).Result);
        Assert.Equal(2, Jobs.CountByStatus()[JobStatus.Queued]);
    }

    [StoreFact]
    public async Task Workers_claiming_at_once_never_get_the_same_job_and_take_the_oldest_first()
    {
        var dataset = await UploadAsync();
        var queued = Enumerable.Range(0, 8).Select(_ => Queue(dataset)).ToList();

        var claims = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => Jobs.TryClaim($"worker-{i}", LongLease))));

        var claimed = claims.OfType<JobLease>().ToList();
        Assert.Equal(queued.Order(StringComparer.Ordinal), claimed.Select(c => c.JobId).Order(StringComparer.Ordinal));
        Assert.All(claimed, c => Assert.Equal(1, c.Attempt));
        var first = Jobs.Get(queued[0])!;
        Assert.Equal(JobStatus.Running, first.Status);
        Assert.Equal(1, first.Attempts);
        Assert.StartsWith("worker-", first.Worker, StringComparison.Ordinal);
        Assert.NotNull(first.StartedAt);
        Assert.Null(Jobs.TryClaim("late", LongLease));
    }

    [StoreFact]
    public async Task An_expired_lease_requeues_the_job_and_fences_out_the_old_worker()
    {
        var dataset = await UploadAsync();
        var job = Queue(dataset);
        var stale = Jobs.TryClaim("dead-worker", TimeSpan.FromSeconds(2))!;
        Jobs.RecordEpochs(stale, [new EpochLoss(1, 0.5, 0.6)]);

        await WaitUntilAsync(() => Jobs.RequeueExpired(3) == 1);
        Assert.Equal(JobStatus.Queued, Jobs.Get(job)!.Status);
        var fresh = Jobs.TryClaim("live-worker", LongLease)!;

        Assert.Equal(2, fresh.Attempt);
        Assert.Empty(Jobs.Get(job)!.History);
        Assert.Equal(LeaseState.Lost, Jobs.Renew(stale, LongLease));
        Assert.Throws<LeaseLostException>(() => Jobs.RecordEpochs(stale, [new EpochLoss(2, 0.4, 0.5)]));
        var modelsBefore = Models.List().Count;
        Assert.False(Jobs.TrySucceed(stale, NewModel(), activate: true));
        Assert.False(Jobs.TryFinish(stale, JobStatus.Failed, "stale"));
        Assert.Equal(modelsBefore, Models.List().Count);
        Assert.Equal(LeaseState.Held, Jobs.Renew(fresh, LongLease));
        Jobs.RecordEpochs(fresh, [new EpochLoss(1, 0.3, 0.35)]);
        var running = Jobs.Get(job)!;
        Assert.Equal(("live-worker", 2, JobStatus.Running), (running.Worker, running.Attempts, running.Status));
        Assert.Equal([new EpochLoss(1, 0.3, 0.35)], running.History);
    }

    [StoreFact]
    public async Task A_lease_that_expires_on_the_last_attempt_fails_the_job_with_an_error_that_says_so()
    {
        var dataset = await UploadAsync();
        var job = Queue(dataset);
        Jobs.TryClaim("dead-worker", TimeSpan.FromMilliseconds(100));

        await WaitUntilAsync(() => Jobs.RequeueExpired(1) == 1);

        var failed = Jobs.Get(job)!;
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains("Training:MaxAttempts", failed.Error, StringComparison.Ordinal);
        Assert.NotNull(failed.FinishedAt);
        Assert.Null(Jobs.TryClaim("worker", LongLease));
    }

    [StoreFact]
    public async Task A_cancel_reaches_the_worker_through_its_renewal_and_only_running_jobs_take_one()
    {
        var dataset = await UploadAsync();
        var running = Queue(dataset);
        var queued = Queue(dataset);
        var lease = Jobs.TryClaim("worker", LongLease)!;
        var heard = new List<string>();
        var signals = _factory.Services.GetRequiredService<StoreSignals>();
        signals.CancelRequested += id =>
        {
            lock (heard)
            {
                heard.Add(id);
            }
        };

        Assert.False(Jobs.RequestCancel(queued));
        Assert.True(Jobs.RequestCancel(running));

        Assert.Equal(LeaseState.CancelRequested, Jobs.Renew(lease, LongLease));
        Assert.True(Jobs.TryFinish(lease, JobStatus.Cancelled, TrainingWorker.CancelledByRequest));
        Assert.Equal(JobStatus.Cancelled, Jobs.Get(running)!.Status);
        Assert.False(Jobs.RequestCancel(running));
        await WaitUntilAsync(() => { lock (heard) { return heard.Contains(running); } });
    }

    [StoreFact]
    public async Task A_released_job_goes_back_to_the_queue_without_using_up_an_attempt()
    {
        var dataset = await UploadAsync();
        var job = Queue(dataset);
        var lease = Jobs.TryClaim("stopping-worker", LongLease)!;

        Assert.True(Jobs.TryRelease(lease));

        Assert.Equal((JobStatus.Queued, 0), (Jobs.Get(job)!.Status, Jobs.Get(job)!.Attempts));
        Assert.Equal(1, Jobs.TryClaim("next-worker", LongLease)!.Attempt);
    }

    [StoreFact]
    public async Task Success_stores_the_model_activates_it_and_ends_the_job_in_one_step()
    {
        var dataset = await UploadAsync();
        var job = Queue(dataset);
        var lease = Jobs.TryClaim("worker", LongLease)!;
        var model = NewModel();

        Assert.True(Jobs.TrySucceed(lease, model, activate: true));

        var done = Jobs.Get(job)!;
        Assert.Equal((JobStatus.Succeeded, model.Manifest.Id), (done.Status, done.ModelId));
        Assert.Equal(model.Manifest.Id, Models.ReadActivePointer());
        Assert.Equal(ModelArtifact.Serialize(model).Weights, Models.ReadFiles(model.Manifest.Id)!.Weights);
        Assert.Equal(model.Manifest.Tags, Models.Find(model.Manifest.Id)!.Manifest!.Tags);
        Assert.Equal(LeaseState.Lost, Jobs.Renew(lease, LongLease));
    }

    [StoreFact]
    public async Task Listing_jobs_returns_each_with_its_own_history()
    {
        var dataset = await UploadAsync();
        var ids = Enumerable.Range(0, 3).Select(_ => Queue(dataset)).ToList();
        for (var i = 0; i < 3; i++)
        {
            var lease = Jobs.TryClaim("worker", LongLease)!;
            Jobs.RecordEpochs(lease, [.. Enumerable.Range(1, i + 1).Select(e => new EpochLoss(e, e * 0.1, i == 0 ? null : e * 0.2))]);
        }

        var listed = Jobs.List(null, 10);

        Assert.Equal(ids.AsEnumerable().Reverse(), listed.Select(j => j.Id));
        Assert.Equal([3, 2, 1], listed.Select(j => j.History.Count));
        Assert.Equal([null], listed[2].History.Select(e => e.ValidationLoss));
        Assert.Equal(listed[0].Progress, Jobs.Get(ids[2])!.Progress);
        Assert.Equal(listed[0].History, Jobs.Get(ids[2])!.History);
        Assert.Equal(ids[2], Assert.Single(Jobs.List(JobStatus.Running, 1)).Id);
    }

    [StoreFact]
    public async Task A_fresh_store_holds_exactly_the_bundled_default_and_never_installs_it_twice()
    {
        var entry = Assert.Single(Models.List());
        Assert.Equal("bundled-default", entry.Manifest!.Tags![ModelTags.Source]);
        Assert.Equal(entry.Id, Models.ReadActivePointer());

        var installs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Models.InstallIfEmpty(NewModel))));

        Assert.All(installs, Assert.Null);
        Assert.Single(Models.List());
    }

    [StoreFact]
    public void The_active_model_cannot_be_deleted_and_others_can()
    {
        var active = Models.ReadActivePointer()!;
        var other = NewModel();
        Models.Save(other);

        Assert.Equal(ModelChange.IsActive, Models.Delete(active));
        Assert.Equal(ModelChange.Done, Models.Delete(other.Manifest.Id));
        Assert.Equal(ModelChange.NotFound, Models.Delete(other.Manifest.Id));
        Assert.Null(Models.Find(other.Manifest.Id));
        Assert.Null(Models.Load(other.Manifest.Id));
        Models.SetActive(active);
        Assert.Equal(active, Models.ReadActivePointer());
    }

    [StoreFact]
    public async Task A_model_exported_after_import_has_the_bytes_it_was_imported_with()
    {
        var active = (await Client.GetJsonAsync("/api/v1/models/active")).GetProperty("id").GetString();
        var archive = await Client.GetByteArrayAsync(new Uri($"/api/v1/models/{active}/artifact", UriKind.Relative));
        var imported = await ServiceApi.ExpectAsync(await Client.PostAsync(new Uri("/api/v1/models", UriKind.Relative),
            ServiceApi.Bytes(archive, "application/gzip")), HttpStatusCode.Created);
        var id = imported.GetProperty("id").GetString()!;

        var first = await Client.GetByteArrayAsync(new Uri($"/api/v1/models/{id}/artifact", UriKind.Relative));
        var files = Models.ReadFiles(id)!;

        Assert.Equal(first, await Client.GetByteArrayAsync(new Uri($"/api/v1/models/{id}/artifact", UriKind.Relative)));
        Assert.Equal(Models.ReadFiles(active!)!.Weights, files.Weights);
        Assert.Equal(id, ModelArtifact.Load(files, "export").Manifest.Id);
    }

    [StoreFact]
    public async Task A_sweep_waits_in_the_job_queue_and_is_claimed_as_one_unit_with_its_plan()
    {
        var dataset = await UploadAsync();
        var job = Queue(dataset);
        var plan = TwoTrialPlan(dataset);
        var sweep = Sweeps.CreateSweep(plan, 100).Sweep!.Id;

        var first = Jobs.TryClaim("worker-1", LongLease)!;
        var second = Jobs.TryClaim("worker-2", LongLease)!;

        Assert.Equal((job, sweep), (first.JobId, second.JobId));
        Assert.Null(Jobs.TryClaim("worker-3", LongLease));
        Assert.Equal(job, Assert.Single(Jobs.List(null, 10)).Id);
        var stored = Sweeps.GetSweep(sweep)!;
        Assert.Equal((JobStatus.Running, "worker-2", 1), (stored.Status, stored.Worker, stored.Attempts));
        Assert.Equal(plan.Trials.Select(t => t.LearningRate), stored.Plan.Trials.Select(t => t.LearningRate));
        Assert.Equal(sweep, Assert.Single(Sweeps.ListSweeps(JobStatus.Running, 10)).Id);
        Assert.Null(Sweeps.GetSweep(job));
        Assert.Equal(JobCreationResult.QueueFull, SweepCreationFull(dataset));
    }

    [StoreFact]
    public async Task A_sweep_whose_lease_expired_restarts_clean_and_its_old_worker_can_record_nothing()
    {
        var dataset = await UploadAsync();
        var plan = TwoTrialPlan(dataset);
        var sweep = Sweeps.CreateSweep(plan, 100).Sweep!.Id;
        var stale = Jobs.TryClaim("dead-worker", TimeSpan.FromSeconds(2))!;
        var partial = new SweepOutcome([0.5, null], [null, null], [null, null]);
        Sweeps.RecordSweep(stale, [new RunEpoch(0, 1, 0.5, 0.6)], 1, partial);
        Assert.Equal(partial.RunScores, Sweeps.GetSweep(sweep)!.Outcome!.RunScores);

        await WaitUntilAsync(() => Jobs.RequeueExpired(3) == 1);
        var fresh = Jobs.TryClaim("live-worker", LongLease)!;

        var restarted = Sweeps.GetSweep(sweep)!;
        Assert.Equal((2, 0), (fresh.Attempt, restarted.Progress.Epoch));
        Assert.Empty(restarted.Epochs);
        Assert.Null(restarted.Outcome);
        Assert.Throws<LeaseLostException>(() => Sweeps.RecordSweep(stale, [new RunEpoch(1, 1, 0.4, 0.5)], 2, partial));
        var modelsBefore = Models.List().Count;
        Assert.False(Sweeps.TrySucceedSweep(stale, [NewModel()], activate: true, partial));
        Assert.Equal(modelsBefore, Models.List().Count);

        var (best, second) = (NewModel(), NewModel());
        var final = new SweepOutcome([0.2, 0.3], [null, null], [best.Manifest.Id, second.Manifest.Id]);
        Sweeps.RecordSweep(fresh, [new RunEpoch(0, 1, 0.3, 0.2), new RunEpoch(1, 1, 0.4, 0.3)], 2, final);
        Assert.True(Sweeps.TrySucceedSweep(fresh, [best, second], activate: true, final));

        var done = Sweeps.GetSweep(sweep)!;
        Assert.Equal((JobStatus.Succeeded, best.Manifest.Id, 2), (done.Status, done.BestModelId, done.Progress.Epoch));
        Assert.Equal([new RunEpoch(0, 1, 0.3, 0.2), new RunEpoch(1, 1, 0.4, 0.3)], done.Epochs);
        Assert.Equal(final.TrialModels, done.Outcome!.TrialModels);
        Assert.Equal(best.Manifest.Id, Models.ReadActivePointer());
        Assert.NotNull(Models.Find(second.Manifest.Id));
        Assert.Equal(LeaseState.Lost, Jobs.Renew(fresh, LongLease));
    }

    [StoreFact]
    public async Task A_queued_sweep_is_cancelled_like_a_job_and_a_running_one_hears_of_its_cancel()
    {
        var dataset = await UploadAsync();
        var queued = Sweeps.CreateSweep(TwoTrialPlan(dataset), 100).Sweep!.Id;
        Assert.True(Jobs.TryCancelQueued(queued, "cancelled by request"));
        var running = Sweeps.CreateSweep(TwoTrialPlan(dataset), 100).Sweep!.Id;
        var lease = Jobs.TryClaim("worker", LongLease)!;

        Assert.Equal(running, lease.JobId);
        Assert.Equal(JobStatus.Cancelled, Sweeps.GetSweep(queued)!.Status);
        Assert.True(Jobs.RequestCancel(running));
        Assert.Equal(LeaseState.CancelRequested, Jobs.Renew(lease, LongLease));
        Assert.True(Jobs.TryFinish(lease, JobStatus.Cancelled, "cancelled by request"));
        Assert.Equal(JobStatus.Cancelled, Sweeps.GetSweep(running)!.Status);
    }

    private JobCreationResult SweepCreationFull(string dataset) => Sweeps.CreateSweep(TwoTrialPlan(dataset), 0).Result;

    private static SweepPlan TwoTrialPlan(string datasetId)
    {
        var trial = TestData.SmallTrainingRequest(datasetId);
        return new SweepPlan(new SweepRequest { DatasetId = datasetId, Target = "price", Base = trial, Grid = new SweepGrid { LearningRate = [0.01, 0.1] } },
            [trial, trial with { LearningRate = 0.1 }], ["learningRate"]);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 10 s.");
            await Task.Delay(50);
        }
    }
}

public sealed class LocalStoreContractTests : StoreContractTests
{
    protected override Task<Dictionary<string, string?>> ProviderSettingsAsync() =>
        Task.FromResult(new Dictionary<string, string?> { ["Storage:Provider"] = "local" });
}

[RequiresPostgres]
public sealed class PostgresStoreContractTests : StoreContractTests
{
    private PostgresTestDatabase? _database;

    protected override async Task<Dictionary<string, string?>> ProviderSettingsAsync()
    {
        _database = new PostgresTestDatabase();
        await _database.InitializeAsync();
        return _database.Settings();
    }

    protected override async Task CleanupAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
