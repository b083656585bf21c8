using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using ModelService.Api.Json;
using ModelService.Api.Storage;
using ModelService.Api.Training;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Local;

/// <summary>Training jobs in SQLite (<c>jobs.db</c>, WAL). Every state change is a conditional update, so two callers
/// racing over one job (a cancel and the worker starting it, say) cannot both win; a worker's writes are conditional
/// on its attempt still holding the lease. One file (sweeps aside) because every statement shares the lock, the lease
/// clause and the row mapping; split, each half would need the other's private helpers.</summary>
internal sealed partial class LocalJobStore(StoragePaths paths, LocalStoreLock storeLock, LocalModelStore models, StoreSignals signals,
    TimeProvider clock) : IJobStore
{
    private const string Columns = JobRows.Columns;

    /// <summary>Schema versions, applied in order and recorded in <c>PRAGMA user_version</c>.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS jobs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            dataset_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            request TEXT NOT NULL,
            epoch INTEGER NOT NULL DEFAULT 0,
            epochs INTEGER NOT NULL,
            train_loss REAL,
            validation_loss REAL,
            model_id TEXT,
            error TEXT);
        CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
        CREATE TABLE IF NOT EXISTS job_epochs (
            job_id TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            train_loss REAL NOT NULL,
            validation_loss REAL,
            PRIMARY KEY (job_id, epoch));
        """,
        """
        ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN worker TEXT;
        ALTER TABLE jobs ADD COLUMN lease_expires INTEGER;
        ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
        UPDATE jobs SET attempts = 1 WHERE started_at IS NOT NULL;
        """,
        """
        ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'training';
        ALTER TABLE jobs ADD COLUMN payload TEXT;
        ALTER TABLE jobs ADD COLUMN outcome TEXT;
        CREATE INDEX IF NOT EXISTS jobs_kind ON jobs (kind, seq);
        CREATE TABLE IF NOT EXISTS sweep_epochs (
            job_id TEXT NOT NULL,
            run INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            train_loss REAL NOT NULL,
            validation_loss REAL,
            PRIMARY KEY (job_id, run, epoch));
        """,
    ];

    private readonly string _connectionString =
        new SqliteConnectionStringBuilder { DataSource = paths.JobsDatabase, Pooling = true }.ToString();

    /// <summary>Brings the schema up to date. One process owns a local store, so a job still running here was
    /// interrupted by a crash: its lease is expired at once, and the worker queues it again.</summary>
    public void Initialize()
    {
        using var connection = Open();
        Execute(connection, "PRAGMA journal_mode = WAL");
        using var version = Command(connection, "PRAGMA user_version");
        for (var applied = Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture); applied < Migrations.Length; applied++)
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, Migrations[applied]);
            Execute(connection, $"PRAGMA user_version = {applied + 1}");
            transaction.Commit();
        }
        Execute(connection, "UPDATE jobs SET lease_expires = 0 WHERE status = 'running'");
    }

    public JobCreation Create(TrainingRequest request, int queueCapacity)
    {
        var job = new TrainingJob(Ids.NewJobId(), JobStatus.Queued, clock.GetUtcNow(), null, null, request,
            new JobProgress(0, request.Epochs, null, null), [], null, null, 0, null);
        lock (storeLock.DatasetsAndJobs)
        {
            if (!LocalDatasetStore.Exists(paths, request.DatasetId!))
            {
                return new JobCreation(JobCreationResult.DatasetMissing, null);
            }
            using var connection = Open();
            using var transaction = connection.BeginTransaction();
            if (Count(connection, "SELECT COUNT(*) FROM jobs WHERE status = 'queued'") >= queueCapacity)
            {
                return new JobCreation(JobCreationResult.QueueFull, null);
            }
            Execute(connection,
                "INSERT INTO jobs (id, status, dataset_id, created_at, request, epochs) VALUES ($id, $status, $dataset, $created, $request, $epochs)",
                ("$id", job.Id), ("$status", JobRows.Stored(job.Status)), ("$dataset", request.DatasetId), ("$created", Format(job.CreatedAt)),
                ("$request", JobRows.Stored(request)), ("$epochs", request.Epochs));
            transaction.Commit();
        }
        signals.RaiseJobQueued();
        return new JobCreation(JobCreationResult.Created, job);
    }

    public TrainingJob? Get(string id)
    {
        using var connection = Open();
        return Query(connection, $"SELECT {Columns} FROM jobs WHERE id = $id", ("$id", id)).SingleOrDefault();
    }

    public IReadOnlyList<TrainingJob> List(JobStatus? status, int limit)
    {
        using var connection = Open();
        return status is null
            ? Query(connection, $"SELECT {Columns} FROM jobs WHERE kind = 'training' ORDER BY seq DESC LIMIT $limit", ("$limit", limit))
            : Query(connection, $"SELECT {Columns} FROM jobs WHERE kind = 'training' AND status = $status ORDER BY seq DESC LIMIT $limit",
                ("$status", JobRows.Stored(status.Value)), ("$limit", limit));
    }

    public IReadOnlyDictionary<JobStatus, long> CountByStatus()
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT status, COUNT(*) FROM jobs GROUP BY status");
        using var reader = command.ExecuteReader();
        return JobRows.Counts(reader);
    }

    /// <summary>Whether a queued or running job uses the dataset; callers hold <see cref="LocalStoreLock.DatasetsAndJobs"/>.</summary>
    public bool HasPendingJobFor(string datasetId)
    {
        using var connection = Open();
        return Count(connection, "SELECT COUNT(*) FROM jobs WHERE dataset_id = $dataset AND status IN ('queued', 'running')",
            ("$dataset", datasetId)) > 0;
    }

    public bool TryCancelQueued(string id, string reason) => Update(
        "UPDATE jobs SET status = 'cancelled', finished_at = $now, error = $error WHERE id = $id AND status = 'queued'",
        ("$id", id), ("$error", reason)) == 1;

    public bool RequestCancel(string id)
    {
        if (Update("UPDATE jobs SET cancel_requested = 1 WHERE id = $id AND status = 'running'", ("$id", id)) != 1)
        {
            return false;
        }
        signals.RaiseCancelRequested(id);
        return true;
    }

    public int RequeueExpired(int maxAttempts)
    {
        var changed = Update("""
            UPDATE jobs SET
                status = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN attempts >= $max THEN 'failed' ELSE 'queued' END,
                finished_at = CASE WHEN cancel_requested = 1 OR attempts >= $max THEN $now END,
                error = CASE WHEN cancel_requested = 1 THEN $cancelled WHEN attempts >= $max THEN $failed END,
                lease_expires = NULL
            WHERE status = 'running' AND lease_expires < $nowMs
            """, ("$max", maxAttempts), ("$cancelled", TrainingWorker.CancelledByRequest), ("$failed", TrainingWorker.AttemptsExhausted(maxAttempts)));
        if (changed > 0)
        {
            signals.RaiseJobQueued();
        }
        return changed;
    }

    public JobLease? TryClaim(string worker, TimeSpan lease)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        var claimed = Query(connection, $"""
            UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = $worker, lease_expires = $expires,
                started_at = $now, epoch = 0, train_loss = NULL, validation_loss = NULL, cancel_requested = 0, outcome = NULL
            WHERE seq = (SELECT seq FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1)
            RETURNING {Columns}
            """, ("$worker", worker), ("$expires", Milliseconds(clock.GetUtcNow() + lease)), ("$now", Format(clock.GetUtcNow())))
            .SingleOrDefault();
        if (claimed is null)
        {
            return null;
        }
        Execute(connection, "DELETE FROM job_epochs WHERE job_id = $id", ("$id", claimed.Id));
        Execute(connection, "DELETE FROM sweep_epochs WHERE job_id = $id", ("$id", claimed.Id));
        transaction.Commit();
        return new JobLease(claimed with { History = [] }, claimed.Attempts, worker);
    }

    public LeaseState Renew(JobLease lease, TimeSpan duration)
    {
        using var connection = Open();
        using var command = Command(connection, $"""
            UPDATE jobs SET lease_expires = $expires WHERE {Fence} RETURNING cancel_requested
            """, [.. FenceValues(lease), ("$expires", Milliseconds(clock.GetUtcNow() + duration))]);
        return command.ExecuteScalar() switch
        {
            null => LeaseState.Lost,
            long requested when requested != 0 => LeaseState.CancelRequested,
            _ => LeaseState.Held,
        };
    }

    public void RecordEpochs(JobLease lease, IReadOnlyList<EpochLoss> epochs)
    {
        if (epochs.Count == 0)
        {
            return;
        }
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        var last = epochs[^1];
        using (var progress = Command(connection, $"UPDATE jobs SET epoch = $epoch, train_loss = $train, validation_loss = $validation WHERE {Fence}",
            [.. FenceValues(lease), ("$epoch", last.Epoch), ("$train", last.TrainLoss), ("$validation", last.ValidationLoss)]))
        {
            if (progress.ExecuteNonQuery() != 1)
            {
                throw new LeaseLostException($"Job {lease.JobId} attempt {lease.Attempt} no longer holds its lease.");
            }
        }
        foreach (var epoch in epochs)
        {
            Execute(connection,
                "INSERT OR REPLACE INTO job_epochs (job_id, epoch, train_loss, validation_loss) VALUES ($id, $epoch, $train, $validation)",
                ("$id", lease.JobId), ("$epoch", epoch.Epoch), ("$train", epoch.TrainLoss), ("$validation", epoch.ValidationLoss));
        }
        transaction.Commit();
    }

    public bool TrySucceed(JobLease lease, TrainedModel model, bool activate)
    {
        lock (storeLock.Models)
        {
            using var connection = Open();
            using var transaction = connection.BeginTransaction();
            if (Count(connection, $"SELECT COUNT(*) FROM jobs WHERE {Fence}", FenceValues(lease)) != 1)
            {
                return false;
            }
            models.Save(model);
            Execute(connection, $"UPDATE jobs SET status = 'succeeded', finished_at = $now, model_id = $model, lease_expires = NULL WHERE {Fence}",
                [.. FenceValues(lease), ("$now", Format(clock.GetUtcNow())), ("$model", model.Manifest.Id)]);
            if (activate)
            {
                models.SetActive(model.Manifest.Id);
            }
            transaction.Commit();
            return true;
        }
    }

    public bool TryFinish(JobLease lease, JobStatus status, string error)
    {
        using var connection = Open();
        using var command = Command(connection,
            $"UPDATE jobs SET status = $status, finished_at = $now, error = $error, lease_expires = NULL WHERE {Fence}",
            [.. FenceValues(lease), ("$status", JobRows.Stored(status)), ("$now", Format(clock.GetUtcNow())), ("$error", error)]);
        return command.ExecuteNonQuery() == 1;
    }

    public bool TryRelease(JobLease lease)
    {
        using var connection = Open();
        using var command = Command(connection,
            $"UPDATE jobs SET status = 'queued', attempts = attempts - 1, started_at = NULL, lease_expires = NULL WHERE {Fence}", FenceValues(lease));
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>The job is still running this attempt on this worker, and the lease has not run out.</summary>
    private const string Fence = "id = $id AND status = 'running' AND attempts = $attempt AND worker = $worker AND lease_expires >= $nowMs";

    private (string, object?)[] FenceValues(JobLease lease) =>
        [("$id", lease.JobId), ("$attempt", lease.Attempt), ("$worker", lease.Worker), ("$nowMs", Milliseconds(clock.GetUtcNow()))];

    private int Update(string sql, params (string Name, object? Value)[] values)
    {
        using var connection = Open();
        using var command = Command(connection, sql,
            [("$now", Format(clock.GetUtcNow())), ("$nowMs", Milliseconds(clock.GetUtcNow())), .. values]);
        return command.ExecuteNonQuery();
    }

    private static List<TrainingJob> Query(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var jobs = new List<TrainingJob>();
        using (var command = Command(connection, sql, parameters))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                jobs.Add(JobRows.Read(reader, static (row, i) => row.IsDBNull(i) ? null : Parse(row.GetString(i))));
            }
        }
        if (jobs.Count == 0)
        {
            return jobs;
        }
        // One query for every history: the ids travel as parameters $j0, $j1, ...
        var names = jobs.Select((_, i) => $"$j{i.ToString(CultureInfo.InvariantCulture)}").ToList();
        using var epochs = Command(connection,
            $"SELECT {JobRows.EpochColumns} FROM job_epochs WHERE job_id IN ({string.Join(", ", names)}) ORDER BY job_id, epoch",
            [.. names.Select((name, i) => (name, (object?)jobs[i].Id))]);
        using var epochReader = epochs.ExecuteReader();
        return JobRows.WithHistories(jobs, epochReader);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static long Count(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // Every statement is a constant of this class; values always travel as parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return command;
    }

    private static long Milliseconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
