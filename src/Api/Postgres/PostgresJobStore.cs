using System.Text.Json;
using ModelService.Api.Json;
using ModelService.Api.Storage;
using ModelService.Api.Training;
using ModelService.Model.Artifacts;
using Npgsql;

namespace ModelService.Api.Postgres;

/// <summary>Jobs in the <c>jobs</c> table, histories in <c>job_epochs</c>. Workers claim with
/// <c>FOR UPDATE SKIP LOCKED</c>, so concurrent claims never wait for each other nor take the same job; leases use the
/// database's clock, so the processes' clocks need not agree; every write a worker makes is fenced by its attempt.</summary>
internal sealed partial class PostgresJobStore(PostgresDatabase db, TimeProvider clock) : IJobStore
{
    private const string Columns = JobRows.Columns;

    /// <summary>The job is still running this attempt on this worker, and the lease has not run out.</summary>
    private const string Fence = "id = $1 AND status = 'running' AND attempts = $2 AND worker = $3 AND lease_expires >= now()";

    public JobCreation Create(TrainingRequest request, int queueCapacity)
    {
        var job = new TrainingJob(Ids.NewJobId(), JobStatus.Queued, PostgresDatabase.ToMicroseconds(clock.GetUtcNow()), null, null, request,
            new JobProgress(0, request.Epochs, null, null), [], null, null, 0, null);
        return db.InTransaction((connection, _) =>
        {
            // The share lock orders this against PostgresDatasetStore.Delete: whichever locks the row first wins.
            if (PostgresDatabase.Scalar(connection, "SELECT id FROM datasets WHERE id = $1 FOR SHARE", request.DatasetId) is null)
            {
                return new JobCreation(JobCreationResult.DatasetMissing, null);
            }
            if ((long)PostgresDatabase.Scalar(connection, "SELECT count(*) FROM jobs WHERE status = 'queued'")! >= queueCapacity)
            {
                return new JobCreation(JobCreationResult.QueueFull, null);
            }
            PostgresDatabase.Execute(connection,
                "INSERT INTO jobs (id, status, dataset_id, created_at, request, epochs) VALUES ($1, 'queued', $2, $3, $4, $5)",
                job.Id, request.DatasetId, job.CreatedAt, JobRows.Stored(request), request.Epochs);
            PostgresDatabase.Notify(connection, PostgresDatabase.JobQueuedChannel, job.Id);
            return new JobCreation(JobCreationResult.Created, job);
        });
    }

    public TrainingJob? Get(string id) => db.Run(connection => Query(connection, $"SELECT {Columns} FROM jobs WHERE id = $1", id)).SingleOrDefault();

    public IReadOnlyList<TrainingJob> List(JobStatus? status, int limit) => db.Run(connection => status is null
        ? Query(connection, $"SELECT {Columns} FROM jobs WHERE kind = 'training' ORDER BY seq DESC LIMIT $1", limit)
        : Query(connection, $"SELECT {Columns} FROM jobs WHERE kind = 'training' AND status = $1 ORDER BY seq DESC LIMIT $2", JobRows.Stored(status.Value), limit));

    public IReadOnlyDictionary<JobStatus, long> CountByStatus() => db.Run(connection =>
    {
        using var command = PostgresDatabase.Command(connection, "SELECT status, count(*) FROM jobs GROUP BY status");
        using var reader = command.ExecuteReader();
        return JobRows.Counts(reader);
    });

    public bool TryCancelQueued(string id, string reason) => db.Run(connection => PostgresDatabase.Execute(connection,
        "UPDATE jobs SET status = 'cancelled', finished_at = now(), error = $2 WHERE id = $1 AND status = 'queued'", id, reason)) == 1;

    public bool RequestCancel(string id) => db.InTransaction((connection, _) =>
    {
        if (PostgresDatabase.Execute(connection, "UPDATE jobs SET cancel_requested = true WHERE id = $1 AND status = 'running'", id) != 1)
        {
            return false;
        }
        PostgresDatabase.Notify(connection, PostgresDatabase.CancelChannel, id);
        return true;
    });

    public int RequeueExpired(int maxAttempts) => db.InTransaction((connection, _) =>
    {
        var changed = PostgresDatabase.Execute(connection, """
            UPDATE jobs SET
                status = CASE WHEN cancel_requested THEN 'cancelled' WHEN attempts >= $1 THEN 'failed' ELSE 'queued' END,
                finished_at = CASE WHEN cancel_requested OR attempts >= $1 THEN now() END,
                error = CASE WHEN cancel_requested THEN $2 WHEN attempts >= $1 THEN $3 END,
                lease_expires = NULL
            WHERE status = 'running' AND lease_expires < now()
            """, maxAttempts, TrainingWorker.CancelledByRequest, TrainingWorker.AttemptsExhausted(maxAttempts));
        if (changed > 0)
        {
            PostgresDatabase.Notify(connection, PostgresDatabase.JobQueuedChannel, "");
        }
        return changed;
    });

    public JobLease? TryClaim(string worker, TimeSpan lease) => db.InTransaction((connection, _) =>
    {
        var claimed = Query(connection, $"""
            WITH next AS (SELECT seq FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
            UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = $1, lease_expires = now() + $2, started_at = now(),
                epoch = 0, train_loss = NULL, validation_loss = NULL, cancel_requested = false, outcome = NULL
            FROM next WHERE jobs.seq = next.seq
            RETURNING {Columns}
            """, worker, lease).SingleOrDefault();
        if (claimed is null)
        {
            return null;
        }
        PostgresDatabase.Execute(connection, "DELETE FROM job_epochs WHERE job_id = $1", claimed.Id);
        PostgresDatabase.Execute(connection, "DELETE FROM sweep_epochs WHERE job_id = $1", claimed.Id);
        return new JobLease(claimed with { History = [] }, claimed.Attempts, worker);
    });

    public LeaseState Renew(JobLease lease, TimeSpan duration) => db.Run(connection =>
        PostgresDatabase.Scalar(connection,
            $"UPDATE jobs SET lease_expires = now() + $4 WHERE {Fence} RETURNING cancel_requested",
            lease.JobId, lease.Attempt, lease.Worker, duration) switch
        {
            null => LeaseState.Lost,
            true => LeaseState.CancelRequested,
            _ => LeaseState.Held,
        });

    public void RecordEpochs(JobLease lease, IReadOnlyList<EpochLoss> epochs)
    {
        if (epochs.Count == 0)
        {
            return;
        }
        var last = epochs[^1];
        db.InTransaction((connection, _) =>
        {
            if (PostgresDatabase.Execute(connection,
                $"UPDATE jobs SET epoch = $4, train_loss = $5, validation_loss = $6 WHERE {Fence}",
                lease.JobId, lease.Attempt, lease.Worker, last.Epoch, last.TrainLoss, last.ValidationLoss) != 1)
            {
                throw new LeaseLostException($"Job {lease.JobId} attempt {lease.Attempt} no longer holds its lease.");
            }
            PostgresDatabase.Execute(connection, """
                INSERT INTO job_epochs (job_id, epoch, train_loss, validation_loss)
                SELECT $1, * FROM unnest($2::integer[], $3::double precision[], $4::double precision[])
                ON CONFLICT (job_id, epoch) DO UPDATE SET train_loss = excluded.train_loss, validation_loss = excluded.validation_loss
                """, lease.JobId, epochs.Select(e => e.Epoch).ToArray(), epochs.Select(e => e.TrainLoss).ToArray(),
                epochs.Select(e => e.ValidationLoss).ToArray());
        });
    }

    public bool TrySucceed(JobLease lease, TrainedModel model, bool activate) => db.InTransaction((connection, _) =>
    {
        if (PostgresDatabase.Scalar(connection, $"SELECT id FROM jobs WHERE {Fence} FOR UPDATE", lease.JobId, lease.Attempt, lease.Worker) is null)
        {
            return false;
        }
        PostgresModelStore.Insert(connection, model);
        PostgresDatabase.Execute(connection,
            $"UPDATE jobs SET status = 'succeeded', finished_at = now(), model_id = $4, lease_expires = NULL WHERE {Fence}",
            lease.JobId, lease.Attempt, lease.Worker, model.Manifest.Id);
        if (activate)
        {
            PostgresModelStore.SetActive(connection, model.Manifest.Id);
        }
        return true;
    });

    public bool TryFinish(JobLease lease, JobStatus status, string error) => db.Run(connection => PostgresDatabase.Execute(connection,
        $"UPDATE jobs SET status = $4, finished_at = now(), error = $5, lease_expires = NULL WHERE {Fence}",
        lease.JobId, lease.Attempt, lease.Worker, JobRows.Stored(status), error)) == 1;

    public bool TryRelease(JobLease lease) => db.InTransaction((connection, _) =>
    {
        if (PostgresDatabase.Execute(connection,
            $"UPDATE jobs SET status = 'queued', attempts = attempts - 1, started_at = NULL, lease_expires = NULL WHERE {Fence}",
            lease.JobId, lease.Attempt, lease.Worker) != 1)
        {
            return false;
        }
        PostgresDatabase.Notify(connection, PostgresDatabase.JobQueuedChannel, lease.JobId);
        return true;
    });

    private static List<TrainingJob> Query(NpgsqlConnection connection, string sql, params object?[] values)
    {
        var jobs = new List<TrainingJob>();
        using (var command = PostgresDatabase.Command(connection, sql, values))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                jobs.Add(JobRows.Read(reader, static (row, i) => PostgresDatabase.ReadTime((NpgsqlDataReader)row, i)));
            }
        }
        if (jobs.Count == 0)
        {
            return jobs;
        }
        using var epochs = PostgresDatabase.Command(connection,
            $"SELECT {JobRows.EpochColumns} FROM job_epochs WHERE job_id = ANY($1) ORDER BY job_id, epoch", (object)jobs.Select(j => j.Id).ToArray());
        using var epochReader = epochs.ExecuteReader();
        return JobRows.WithHistories(jobs, epochReader);
    }
}
