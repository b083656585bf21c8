using System.Net.Sockets;
using ModelService.Api.Storage;
using Npgsql;

namespace ModelService.Api.Postgres;

/// <summary>Opens connections from the process's one data source (pooled) and turns "the database cannot be reached"
/// into <see cref="StoreUnavailableException"/>, which the API answers with 503 and Retry-After.</summary>
internal sealed class PostgresDatabase(NpgsqlDataSource dataSource)
{
    /// <summary>Notification channels; every process listens on all of them.</summary>
    public const string ActiveModelChannel = "modelservice_active";
    public const string JobQueuedChannel = "modelservice_jobs";
    public const string CancelChannel = "modelservice_cancel";

    public NpgsqlDataSource DataSource => dataSource;

    public T Run<T>(Func<NpgsqlConnection, T> work)
    {
        try
        {
            using var connection = dataSource.OpenConnection();
            return work(connection);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new StoreUnavailableException("The database cannot be reached.", e);
        }
    }

    /// <summary>Runs <paramref name="work"/> in a transaction, committed when it returns.</summary>
    public T InTransaction<T>(Func<NpgsqlConnection, NpgsqlTransaction, T> work) => Run(connection =>
    {
        using var transaction = connection.BeginTransaction();
        var result = work(connection, transaction);
        transaction.Commit();
        return result;
    });

    public void InTransaction(Action<NpgsqlConnection, NpgsqlTransaction> work) => InTransaction((connection, transaction) =>
    {
        work(connection, transaction);
        return true;
    });

    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || postgres.SqlState.StartsWith("53", StringComparison.Ordinal),
        NpgsqlException => true,
        SocketException or TimeoutException => true,
        InvalidOperationException { InnerException: { } inner } => IsUnavailable(inner),
        _ => false,
    };

    public static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object?[] values)
    {
#pragma warning disable CA2100 // Every statement is a constant of the calling store; values always travel as parameters.
        var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }
        return command;
    }

    public static int Execute(NpgsqlConnection connection, string sql, params object?[] values)
    {
        using var command = Command(connection, sql, values);
        return command.ExecuteNonQuery();
    }

    public static object? Scalar(NpgsqlConnection connection, string sql, params object?[] values)
    {
        using var command = Command(connection, sql, values);
        return command.ExecuteScalar();
    }

    /// <summary>Announces <paramref name="payload"/> on <paramref name="channel"/> to every listening process; inside a
    /// transaction it is delivered at commit, and not at all on rollback.</summary>
    public static void Notify(NpgsqlConnection connection, string channel, string payload) =>
        Execute(connection, "SELECT pg_notify($1, $2)", channel, payload);

    /// <summary>PostgreSQL keeps microseconds; times are cut to them before they are stored and shown, so that what a
    /// write answers equals what a later read shows.</summary>
    public static DateTimeOffset ToMicroseconds(DateTimeOffset time) =>
        new(time.UtcTicks - time.UtcTicks % 10, TimeSpan.Zero);

    public static DateTimeOffset? ReadTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : new DateTimeOffset(reader.GetFieldValue<DateTime>(ordinal), TimeSpan.Zero);
}
