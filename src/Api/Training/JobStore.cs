using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using ModelService.Api.Infrastructure;

namespace ModelService.Api.Training;

/// <summary>Training jobs in SQLite (<c>jobs.db</c>, WAL). Every state change is a conditional update, so two callers
/// racing over one job (a cancel and the worker starting it, say) cannot both win.</summary>
internal sealed class JobStore
{
    private const string Columns =
        "id, status, created_at, started_at, finished_at, request, epoch, epochs, train_loss, validation_loss, model_id, error";

    private readonly string _connectionString;
    private readonly TimeProvider _clock;

    public JobStore(StoragePaths paths, TimeProvider clock)
    {
        _clock = clock;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = paths.JobsDatabase, Pooling = true }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
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
            """);
    }

    public TrainingJob Create(TrainingRequest request)
    {
        var job = new TrainingJob(Ids.NewJobId(), JobStatus.Queued, _clock.GetUtcNow(), null, null, request,
            new JobProgress(0, request.Epochs!.Value, null, null), [], null, null);
        using var connection = Open();
        Execute(connection,
            "INSERT INTO jobs (id, status, dataset_id, created_at, request, epochs) VALUES ($id, $status, $dataset, $created, $request, $epochs)",
            ("$id", job.Id), ("$status", job.Status), ("$dataset", request.DatasetId), ("$created", Format(job.CreatedAt)),
            ("$request", JsonSerializer.Serialize(request, ApiJsonContext.Default.TrainingRequest)), ("$epochs", request.Epochs));
        return job;
    }

    /// <summary>Removes a job that never got into the queue.</summary>
    public void Remove(string id)
    {
        using var connection = Open();
        Execute(connection, "DELETE FROM jobs WHERE id = $id AND status = 'queued'", ("$id", id));
    }

    public TrainingJob? Get(string id)
    {
        using var connection = Open();
        return Query(connection, $"SELECT {Columns} FROM jobs WHERE id = $id", ("$id", id)).SingleOrDefault();
    }

    public IReadOnlyList<TrainingJob> List(string? status, int limit)
    {
        using var connection = Open();
        return status is null
            ? Query(connection, $"SELECT {Columns} FROM jobs ORDER BY seq DESC LIMIT $limit", ("$limit", limit))
            : Query(connection, $"SELECT {Columns} FROM jobs WHERE status = $status ORDER BY seq DESC LIMIT $limit",
                ("$status", status), ("$limit", limit));
    }

    /// <summary>How many jobs are in each status (statuses without jobs are left out).</summary>
    public IReadOnlyDictionary<string, long> CountByStatus()
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT status, COUNT(*) FROM jobs GROUP BY status");
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (reader.Read())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }
        return counts;
    }

    public bool HasPendingJobFor(string datasetId)
    {
        using var connection = Open();
        using var command = Command(connection,
            "SELECT COUNT(*) FROM jobs WHERE dataset_id = $dataset AND status IN ('queued', 'running')", ("$dataset", datasetId));
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    public bool TryStart(string id) => Transition(id, JobStatus.Queued, JobStatus.Running, "started_at = $now");

    public bool TryCancelQueued(string id, string reason) =>
        Transition(id, JobStatus.Queued, JobStatus.Cancelled, "finished_at = $now, error = $error", ("$error", reason));

    public bool MarkCancelled(string id, string reason) =>
        Transition(id, JobStatus.Running, JobStatus.Cancelled, "finished_at = $now, error = $error", ("$error", reason));

    public bool MarkFailed(string id, string error) =>
        Transition(id, JobStatus.Running, JobStatus.Failed, "finished_at = $now, error = $error", ("$error", error));

    public bool MarkSucceeded(string id, string modelId) =>
        Transition(id, JobStatus.Running, JobStatus.Succeeded, "finished_at = $now, model_id = $model", ("$model", modelId));

    /// <summary>Appends finished epochs and moves the job's progress to the last of them.</summary>
    public void RecordEpochs(string id, IReadOnlyList<EpochLoss> epochs)
    {
        if (epochs.Count == 0)
        {
            return;
        }
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        foreach (var epoch in epochs)
        {
            Execute(connection,
                "INSERT OR REPLACE INTO job_epochs (job_id, epoch, train_loss, validation_loss) VALUES ($id, $epoch, $train, $validation)",
                ("$id", id), ("$epoch", epoch.Epoch), ("$train", epoch.TrainLoss), ("$validation", epoch.ValidationLoss));
        }
        var last = epochs[^1];
        Execute(connection, "UPDATE jobs SET epoch = $epoch, train_loss = $train, validation_loss = $validation WHERE id = $id",
            ("$id", id), ("$epoch", last.Epoch), ("$train", last.TrainLoss), ("$validation", last.ValidationLoss));
        transaction.Commit();
    }

    /// <summary>After a crash: jobs left running are failed, queued ones are returned (oldest first) to be queued again.</summary>
    public IReadOnlyList<string> RecoverAfterRestart(string runningError)
    {
        using var connection = Open();
        Execute(connection, "UPDATE jobs SET status = 'failed', finished_at = $now, error = $error WHERE status = 'running'",
            ("$now", Format(_clock.GetUtcNow())), ("$error", runningError));
        return [.. Query(connection, $"SELECT {Columns} FROM jobs WHERE status = 'queued' ORDER BY seq").Select(j => j.Id)];
    }

    private bool Transition(string id, string from, string to, string set, params (string Name, object? Value)[] values)
    {
        using var connection = Open();
        using var command = Command(connection, $"UPDATE jobs SET status = $to, {set} WHERE id = $id AND status = $from",
            [("$id", id), ("$from", from), ("$to", to), ("$now", Format(_clock.GetUtcNow())), .. values]);
        return command.ExecuteNonQuery() == 1;
    }

    private static List<TrainingJob> Query(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var jobs = new List<TrainingJob>();
        using (var command = Command(connection, sql, parameters))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                jobs.Add(new TrainingJob(
                    reader.GetString(0),
                    reader.GetString(1),
                    Parse(reader.GetString(2)),
                    reader.IsDBNull(3) ? null : Parse(reader.GetString(3)),
                    reader.IsDBNull(4) ? null : Parse(reader.GetString(4)),
                    JsonSerializer.Deserialize(reader.GetString(5), ApiJsonContext.Default.TrainingRequest)!,
                    new JobProgress(reader.GetInt32(6), reader.GetInt32(7), NullableDouble(reader, 8), NullableDouble(reader, 9)),
                    [],
                    reader.IsDBNull(10) ? null : reader.GetString(10),
                    reader.IsDBNull(11) ? null : reader.GetString(11)));
            }
        }
        return [.. jobs.Select(job => job with { History = History(connection, job.Id) })];
    }

    private static List<EpochLoss> History(SqliteConnection connection, string id)
    {
        var history = new List<EpochLoss>();
        using var command = Command(connection,
            "SELECT epoch, train_loss, validation_loss FROM job_epochs WHERE job_id = $id ORDER BY epoch", ("$id", id));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            history.Add(new EpochLoss(reader.GetInt32(0), reader.GetDouble(1), NullableDouble(reader, 2)));
        }
        return history;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
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

    private static double? NullableDouble(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
