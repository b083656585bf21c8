using Npgsql;

namespace ModelService.Api.Postgres;

/// <summary>The versioned schema. Every process applies the missing versions at start-up while holding an advisory
/// lock, so processes starting together on an empty database apply each version exactly once.</summary>
internal static partial class PostgresMigrations
{
    /// <summary>Advisory lock keys (arbitrary, fixed): schema changes, and installing the first model.</summary>
    public const long SchemaLock = 0x6D6F_6465_6C00_0001;
    public const long FirstModelLock = 0x6D6F_6465_6C00_0002;

    /// <summary>No index covers lease_expires, so the heartbeat's once-a-second renewal can be a HOT update (no index
    /// writes); the expiry sweep reads the few running jobs through jobs_status.</summary>
    private static readonly string[] Versions =
    [
        """
        CREATE TABLE datasets (
            id text PRIMARY KEY,
            created_at timestamptz NOT NULL,
            info text NOT NULL,
            data bytea NOT NULL);
        CREATE TABLE models (
            id text PRIMARY KEY,
            created_at timestamptz NOT NULL,
            manifest bytea NOT NULL,
            weights bytea NOT NULL);
        CREATE TABLE active_model (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            model_id text NOT NULL REFERENCES models (id));
        CREATE TABLE jobs (
            seq bigserial PRIMARY KEY,
            id text NOT NULL UNIQUE,
            status text NOT NULL,
            dataset_id text NOT NULL,
            created_at timestamptz NOT NULL,
            started_at timestamptz,
            finished_at timestamptz,
            request text NOT NULL,
            epoch integer NOT NULL DEFAULT 0,
            epochs integer NOT NULL,
            train_loss double precision,
            validation_loss double precision,
            model_id text,
            error text,
            attempts integer NOT NULL DEFAULT 0,
            worker text,
            lease_expires timestamptz,
            cancel_requested boolean NOT NULL DEFAULT false);
        CREATE INDEX jobs_queue ON jobs (seq) WHERE status = 'queued';
        CREATE INDEX jobs_status ON jobs (status, seq);
        CREATE INDEX jobs_pending_dataset ON jobs (dataset_id) WHERE status IN ('queued', 'running');
        CREATE TABLE job_epochs (
            job_id text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            epoch integer NOT NULL,
            train_loss double precision NOT NULL,
            validation_loss double precision,
            PRIMARY KEY (job_id, epoch));
        """,
        """
        ALTER TABLE jobs ADD COLUMN kind text NOT NULL DEFAULT 'training';
        ALTER TABLE jobs ADD COLUMN payload text;
        ALTER TABLE jobs ADD COLUMN outcome text;
        CREATE INDEX jobs_kind ON jobs (kind, seq);
        CREATE TABLE sweep_epochs (
            job_id text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            run integer NOT NULL,
            epoch integer NOT NULL,
            train_loss double precision NOT NULL,
            validation_loss double precision,
            PRIMARY KEY (job_id, run, epoch));
        """,
    ];

    /// <summary>The schema version this build writes.</summary>
    public static int Latest => Versions.Length;

    /// <summary>Applies every missing version; returns how many were applied here.</summary>
    public static int Apply(NpgsqlConnection connection)
    {
        PostgresDatabase.Execute(connection, "SELECT pg_advisory_lock($1)", SchemaLock);
        try
        {
            PostgresDatabase.Execute(connection, """
                CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """);
            var current = Convert.ToInt32(PostgresDatabase.Scalar(connection, "SELECT coalesce(max(version), 0) FROM schema_migrations"),
                System.Globalization.CultureInfo.InvariantCulture);
            if (current > Versions.Length)
            {
                throw new InvalidOperationException(
                    $"The database schema is at version {current}, newer than this build's {Versions.Length}; run a newer build.");
            }
            for (var version = current + 1; version <= Versions.Length; version++)
            {
                using var transaction = connection.BeginTransaction();
                PostgresDatabase.Execute(connection, Versions[version - 1]);
                PostgresDatabase.Execute(connection, "INSERT INTO schema_migrations (version) VALUES ($1)", version);
                transaction.Commit();
            }
            return Versions.Length - current;
        }
        finally
        {
            PostgresDatabase.Execute(connection, "SELECT pg_advisory_unlock($1)", SchemaLock);
        }
    }
}
