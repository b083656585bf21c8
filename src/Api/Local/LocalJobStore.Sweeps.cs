using System.Text.Json;
using Microsoft.Data.Sqlite;
using ModelService.Api.Json;
using ModelService.Api.Storage;
using ModelService.Api.Sweeps;
using ModelService.Api.Training;
using ModelService.Model.Serialization;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Local;

/// <summary>Sweeps are rows of <c>jobs</c> with kind 'sweep' (the plan in <c>payload</c>, the outcome so far in
/// <c>outcome</c>) and per-run histories in <c>sweep_epochs</c>; the queue, leases and fencing are the jobs'.</summary>
internal sealed partial class LocalJobStore : ISweepStore
{
    private const string SweepColumns = SweepRows.Columns;

    public SweepCreation CreateSweep(SweepPlan plan, int queueCapacity)
    {
        var sweep = new SweepJob(Ids.NewSweepId(), JobStatus.Queued, clock.GetUtcNow(), null, null, plan,
            new JobProgress(0, SweepProgress.PlannedEpochs(plan), null, null), [], null, null, null, 0, null);
        lock (storeLock.DatasetsAndJobs)
        {
            if (!LocalDatasetStore.Exists(paths, plan.DatasetId))
            {
                return new SweepCreation(JobCreationResult.DatasetMissing, null);
            }
            using var connection = Open();
            using var transaction = connection.BeginTransaction();
            if (Count(connection, "SELECT COUNT(*) FROM jobs WHERE status = 'queued'") >= queueCapacity)
            {
                return new SweepCreation(JobCreationResult.QueueFull, null);
            }
            Execute(connection, """
                INSERT INTO jobs (id, status, kind, dataset_id, created_at, request, epochs, payload)
                VALUES ($id, 'queued', 'sweep', $dataset, $created, $request, $epochs, $payload)
                """,
                ("$id", sweep.Id), ("$dataset", plan.DatasetId), ("$created", Format(sweep.CreatedAt)),
                ("$request", JsonSerializer.Serialize(plan.Trials[0], ApiJsonContext.Default.TrainingRequest)),
                ("$epochs", sweep.Progress.Epochs), ("$payload", JsonSerializer.Serialize(plan, ApiJsonContext.Default.SweepPlan)));
            transaction.Commit();
        }
        signals.RaiseJobQueued();
        return new SweepCreation(JobCreationResult.Created, sweep);
    }

    public SweepJob? GetSweep(string id)
    {
        using var connection = Open();
        var sweep = QuerySweeps(connection, $"SELECT {SweepColumns} FROM jobs WHERE id = $id AND kind = 'sweep'", ("$id", id)).SingleOrDefault();
        if (sweep is null)
        {
            return null;
        }
        using var command = Command(connection,
            $"SELECT {SweepRows.EpochColumns} FROM sweep_epochs WHERE job_id = $id ORDER BY run, epoch", ("$id", id));
        using var reader = command.ExecuteReader();
        return sweep with { Epochs = SweepRows.Epochs(reader) };
    }

    public IReadOnlyList<SweepJob> ListSweeps(JobStatus? status, int limit)
    {
        using var connection = Open();
        return status is null
            ? QuerySweeps(connection, $"SELECT {SweepColumns} FROM jobs WHERE kind = 'sweep' ORDER BY seq DESC LIMIT $limit", ("$limit", limit))
            : QuerySweeps(connection, $"SELECT {SweepColumns} FROM jobs WHERE kind = 'sweep' AND status = $status ORDER BY seq DESC LIMIT $limit",
                ("$status", JobRows.Stored(status.Value)), ("$limit", limit));
    }

    public void RecordSweep(JobLease lease, IReadOnlyList<RunEpoch> epochs, int epochsDone, SweepOutcome outcome)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using (var progress = Command(connection, $"UPDATE jobs SET epoch = $done, outcome = $outcome WHERE {Fence}",
            [.. FenceValues(lease), ("$done", epochsDone), ("$outcome", JsonSerializer.Serialize(outcome, ApiJsonContext.Default.SweepOutcome))]))
        {
            if (progress.ExecuteNonQuery() != 1)
            {
                throw new LeaseLostException($"Sweep {lease.JobId} attempt {lease.Attempt} no longer holds its lease.");
            }
        }
        foreach (var epoch in epochs)
        {
            Execute(connection, """
                INSERT OR REPLACE INTO sweep_epochs (job_id, run, epoch, train_loss, validation_loss)
                VALUES ($id, $run, $epoch, $train, $validation)
                """,
                ("$id", lease.JobId), ("$run", epoch.Run), ("$epoch", epoch.Epoch), ("$train", epoch.TrainLoss),
                ("$validation", epoch.ValidationLoss));
        }
        transaction.Commit();
    }

    public bool TrySucceedSweep(JobLease lease, IReadOnlyList<TrainedModel> kept, bool activate, SweepOutcome outcome)
    {
        lock (storeLock.Models)
        {
            using var connection = Open();
            using var transaction = connection.BeginTransaction();
            if (Count(connection, $"SELECT COUNT(*) FROM jobs WHERE {Fence}", FenceValues(lease)) != 1)
            {
                return false;
            }
            foreach (var model in kept)
            {
                models.Save(model);
            }
            var best = kept.Count > 0 ? kept[0].Manifest.Id : null;
            Execute(connection, $"""
                UPDATE jobs SET status = 'succeeded', finished_at = $now, model_id = $model, outcome = $outcome, lease_expires = NULL
                WHERE {Fence}
                """,
                [.. FenceValues(lease), ("$now", Format(clock.GetUtcNow())), ("$model", best),
                    ("$outcome", JsonSerializer.Serialize(outcome, ApiJsonContext.Default.SweepOutcome))]);
            if (activate && best is not null)
            {
                models.SetActive(best);
            }
            transaction.Commit();
            return true;
        }
    }

    private static List<SweepJob> QuerySweeps(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var sweeps = new List<SweepJob>();
        while (reader.Read())
        {
            sweeps.Add(SweepRows.Read(reader, static (row, i) => row.IsDBNull(i) ? null : Parse(row.GetString(i))));
        }
        return sweeps;
    }
}
