using System.Text.Json;
using ModelService.Api.Json;
using ModelService.Api.Storage;
using ModelService.Api.Sweeps;
using ModelService.Api.Training;
using ModelService.Model.Serialization;
using ModelService.Model.Artifacts;
using Npgsql;

namespace ModelService.Api.Postgres;

/// <summary>Sweeps are rows of <c>jobs</c> with kind 'sweep' (the plan in <c>payload</c>, the outcome so far in
/// <c>outcome</c>) and per-run histories in <c>sweep_epochs</c>; the queue, leases and fencing are the jobs'.</summary>
internal sealed partial class PostgresJobStore : ISweepStore
{
    private const string SweepColumns = SweepRows.Columns;

    public SweepCreation CreateSweep(SweepPlan plan, int queueCapacity)
    {
        var sweep = new SweepJob(Ids.NewSweepId(), JobStatus.Queued, PostgresDatabase.ToMicroseconds(clock.GetUtcNow()), null, null, plan,
            new JobProgress(0, SweepProgress.PlannedEpochs(plan), null, null), [], null, null, null, 0, null);
        return db.InTransaction((connection, _) =>
        {
            // As for a job: the share lock orders this against PostgresDatasetStore.Delete.
            if (PostgresDatabase.Scalar(connection, "SELECT id FROM datasets WHERE id = $1 FOR SHARE", plan.DatasetId) is null)
            {
                return new SweepCreation(JobCreationResult.DatasetMissing, null);
            }
            if ((long)PostgresDatabase.Scalar(connection, "SELECT count(*) FROM jobs WHERE status = 'queued'")! >= queueCapacity)
            {
                return new SweepCreation(JobCreationResult.QueueFull, null);
            }
            PostgresDatabase.Execute(connection, """
                INSERT INTO jobs (id, status, kind, dataset_id, created_at, request, epochs, payload)
                VALUES ($1, 'queued', 'sweep', $2, $3, $4, $5, $6)
                """,
                sweep.Id, plan.DatasetId, sweep.CreatedAt, JsonSerializer.Serialize(plan.Trials[0], ApiJsonContext.Default.TrainingRequest),
                sweep.Progress.Epochs, JsonSerializer.Serialize(plan, ApiJsonContext.Default.SweepPlan));
            PostgresDatabase.Notify(connection, PostgresDatabase.JobQueuedChannel, sweep.Id);
            return new SweepCreation(JobCreationResult.Created, sweep);
        });
    }

    public SweepJob? GetSweep(string id) => db.Run(connection =>
    {
        var sweep = QuerySweeps(connection, $"SELECT {SweepColumns} FROM jobs WHERE id = $1 AND kind = 'sweep'", id).SingleOrDefault();
        if (sweep is null)
        {
            return null;
        }
        using var command = PostgresDatabase.Command(connection,
            $"SELECT {SweepRows.EpochColumns} FROM sweep_epochs WHERE job_id = $1 ORDER BY run, epoch", id);
        using var reader = command.ExecuteReader();
        return sweep with { Epochs = SweepRows.Epochs(reader) };
    });

    public IReadOnlyList<SweepJob> ListSweeps(JobStatus? status, int limit) => db.Run(connection => status is null
        ? QuerySweeps(connection, $"SELECT {SweepColumns} FROM jobs WHERE kind = 'sweep' ORDER BY seq DESC LIMIT $1", limit)
        : QuerySweeps(connection, $"SELECT {SweepColumns} FROM jobs WHERE kind = 'sweep' AND status = $1 ORDER BY seq DESC LIMIT $2", JobRows.Stored(status.Value), limit));

    public void RecordSweep(JobLease lease, IReadOnlyList<RunEpoch> epochs, int epochsDone, SweepOutcome outcome) =>
        db.InTransaction((connection, _) =>
        {
            if (PostgresDatabase.Execute(connection, $"UPDATE jobs SET epoch = $4, outcome = $5 WHERE {Fence}",
                lease.JobId, lease.Attempt, lease.Worker, epochsDone, JsonSerializer.Serialize(outcome, ApiJsonContext.Default.SweepOutcome)) != 1)
            {
                throw new LeaseLostException($"Sweep {lease.JobId} attempt {lease.Attempt} no longer holds its lease.");
            }
            if (epochs.Count == 0)
            {
                return;
            }
            PostgresDatabase.Execute(connection, """
                INSERT INTO sweep_epochs (job_id, run, epoch, train_loss, validation_loss)
                SELECT $1, * FROM unnest($2::integer[], $3::integer[], $4::double precision[], $5::double precision[])
                ON CONFLICT (job_id, run, epoch) DO UPDATE SET train_loss = excluded.train_loss, validation_loss = excluded.validation_loss
                """, lease.JobId, epochs.Select(e => e.Run).ToArray(), epochs.Select(e => e.Epoch).ToArray(),
                epochs.Select(e => e.TrainLoss).ToArray(), epochs.Select(e => e.ValidationLoss).ToArray());
        });

    public bool TrySucceedSweep(JobLease lease, IReadOnlyList<TrainedModel> kept, bool activate, SweepOutcome outcome) =>
        db.InTransaction((connection, _) =>
        {
            if (PostgresDatabase.Scalar(connection, $"SELECT id FROM jobs WHERE {Fence} FOR UPDATE", lease.JobId, lease.Attempt, lease.Worker) is null)
            {
                return false;
            }
            foreach (var model in kept)
            {
                PostgresModelStore.Insert(connection, model);
            }
            var best = kept.Count > 0 ? kept[0].Manifest.Id : null;
            PostgresDatabase.Execute(connection, $"""
                UPDATE jobs SET status = 'succeeded', finished_at = now(), model_id = $4, outcome = $5, lease_expires = NULL WHERE {Fence}
                """, lease.JobId, lease.Attempt, lease.Worker, best, JsonSerializer.Serialize(outcome, ApiJsonContext.Default.SweepOutcome));
            if (activate && best is not null)
            {
                PostgresModelStore.SetActive(connection, best);
            }
            return true;
        });

    private static List<SweepJob> QuerySweeps(NpgsqlConnection connection, string sql, params object?[] values)
    {
        using var command = PostgresDatabase.Command(connection, sql, values);
        using var reader = command.ExecuteReader();
        var sweeps = new List<SweepJob>();
        while (reader.Read())
        {
            sweeps.Add(SweepRows.Read(reader, static (row, i) => PostgresDatabase.ReadTime((NpgsqlDataReader)row, i)));
        }
        return sweeps;
    }
}
