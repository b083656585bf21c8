namespace ModelService.Api.Tests.Storage;

/// <summary>A class fixture: a database of its own on <see cref="PostgresServer"/>, dropped when the class is done; nothing
/// when PostgreSQL tests are skipped here.</summary>
public sealed class PostgresTestDatabase : IAsyncLifetime
{
    private PostgresServer? _server;

    public string ConnectionString { get; private set; } = "";

    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgreSQL is not available.");

    public async Task InitializeAsync()
    {
        if (PostgresServer.SkipReason is not null)
        {
            return;
        }
        _server = await PostgresServer.GetAsync();
        ConnectionString = await _server.CreateDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DropDatabaseAsync(ConnectionString);
        }
    }

    /// <summary>The settings that put a service on this database.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["Storage:Provider"] = "postgres",
        ["ConnectionStrings:Postgres"] = ConnectionString,
    };
}
