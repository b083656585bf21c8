using Npgsql;

namespace ModelService.Api.Postgres;

/// <summary>The cluster provider: everything durable in one PostgreSQL database (ConnectionStrings:Postgres), shared by
/// every API replica and training worker.</summary>
internal static partial class PostgresStorage
{
    public const string ConnectionStringName = "Postgres";

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    public static IServiceCollection AddPostgresStores(this IServiceCollection services)
    {
        // Building a data source opens nothing; connections are made on first use.
        services.AddSingleton(provider =>
        {
            var connectionString = provider.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException(
                    $"Storage:Provider is postgres but ConnectionStrings:{ConnectionStringName} is not set.");
            }
            return new NpgsqlDataSourceBuilder(connectionString).Build();
        });
        services.AddSingleton<PostgresDatabase>();
        services.AddSingleton<PostgresJobStore>();
        services.AddSingleton<PostgresModelStore>();
        services.AddSingleton<PostgresDatasetStore>();
        services.AddSingleton<PostgresListener>();
        services.AddSingleton<PostgresHealthCheck>();
        return services;
    }

    /// <summary>Applies missing schema versions, waiting for the database for up to <paramref name="patience"/> (a
    /// process may start before its database does).</summary>
    public static async Task MigrateAsync(PostgresDatabase db, TimeSpan patience, ILogger logger, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                await using var connection = await db.DataSource.OpenConnectionAsync(cancellationToken);
                var applied = PostgresMigrations.Apply(connection);
                LogSchema(logger, PostgresMigrations.Latest, applied);
                return;
            }
            catch (Exception e) when (PostgresDatabase.IsUnavailable(e) && DateTime.UtcNow < deadline)
            {
                LogWaiting(logger, e.Message);
                await Task.Delay(RetryDelay, cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema at version {Version} ({Applied} versions applied by this process)")]
    private static partial void LogSchema(ILogger logger, int version, int applied);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for the database: {Reason}")]
    private static partial void LogWaiting(ILogger logger, string reason);
}
