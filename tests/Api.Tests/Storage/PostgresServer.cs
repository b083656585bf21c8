using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ModelService.Api.Tests.Storage;

/// <summary>The PostgreSQL server the tests use: the one MODELSERVICE_TEST_POSTGRES names (a connection string), else a
/// private cluster this process creates in a temporary folder (initdb as the postgres user when running as root, a
/// free loopback port, the socket in that folder) and stops when the test run ends. Each test class gets its own
/// database from <see cref="CreateDatabaseAsync"/>.</summary>
public sealed class PostgresServer
{
    public const string ConnectionStringVariable = "MODELSERVICE_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);

    private readonly string? _dataDirectory;
    private readonly string? _binaries;

    private PostgresServer(string adminConnectionString, string? dataDirectory, string? binaries)
    {
        AdminConnectionString = adminConnectionString;
        _dataDirectory = dataDirectory;
        _binaries = binaries;
    }

    /// <summary>Connects to the server's maintenance database.</summary>
    public string AdminConnectionString { get; }

    /// <summary>Why PostgreSQL tests cannot run here, or null when they can. On CI (CI=true) they always run, and fail
    /// when no server can be had.</summary>
    public static string? SkipReason =>
        Environment.GetEnvironmentVariable(ConnectionStringVariable) is { Length: > 0 }
        || FindBinaries() is not null
        || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? null
            : $"No PostgreSQL: set {ConnectionStringVariable} to a connection string, or install PostgreSQL (initdb under /usr/lib/postgresql/*/bin).";

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"modelservice_test_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Timeout = 5, CommandTimeout = 30 }.ToString();
    }

    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Stops and starts the private cluster, as a database restart would; not possible with an external server.</summary>
    public bool CanRestart => _dataDirectory is not null;

    public void Stop() => PgCtl("stop", "-m", "fast");

    public void Start() => PgCtl("start", "-l", Path.Combine(_dataDirectory!, "server.log"));

    private static Task<PostgresServer> StartAsync() =>
        Environment.GetEnvironmentVariable(ConnectionStringVariable) is { Length: > 0 } external
            ? Task.FromResult(new PostgresServer(external, null, null))
            : StartPrivateAsync();

    /// <summary>A cluster of its own (a test that restarts the server must not disturb the others), or the shared one
    /// when only MODELSERVICE_TEST_POSTGRES is available.</summary>
    public static Task<PostgresServer> GetRestartableAsync() => FindBinaries() is null ? GetAsync() : StartPrivateAsync();

    private static async Task<PostgresServer> StartPrivateAsync()
    {
        var binaries = FindBinaries() ?? throw new InvalidOperationException(SkipReason
            ?? $"CI=true but PostgreSQL is not installed and {ConnectionStringVariable} is not set.");
        var directory = Path.Combine(Path.GetTempPath(), $"modelservice-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        if (IsRoot)
        {
            Run("chown", "postgres:postgres", directory);
        }
        var port = FreePort();
        var data = Path.Combine(directory, "data");
        RunAs(Path.Combine(binaries, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        File.AppendAllText(Path.Combine(data, "postgresql.conf"), string.Join('\n',
            $"port = {port.ToString(CultureInfo.InvariantCulture)}",
            "listen_addresses = '127.0.0.1'",
            $"unix_socket_directories = '{directory}'",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "max_connections = 300",
            ""));
        var server = new PostgresServer(
            $"Host=127.0.0.1;Port={port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database=postgres;Timeout=5",
            data, binaries);
        server.Start();
        StartWatchdog(binaries, data, directory);
        await Task.CompletedTask;
        return server;
    }

    /// <summary>A detached shell that outlives this process by at most a second: once the test process is gone (however
    /// it ended, kill -9 included) it stops the cluster and removes its folder.</summary>
    private static void StartWatchdog(string binaries, string data, string directory)
    {
        var stop = $"{(IsRoot ? "runuser -u postgres -- " : "")}'{Path.Combine(binaries, "pg_ctl")}' stop -D '{data}' -m immediate";
        var script = $"while kill -0 {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)} 2>/dev/null; do sleep 1; done; "
            + $"{stop} >/dev/null 2>&1; rm -rf '{directory}'";
        var start = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["sh", "-c", script])
        {
            start.ArgumentList.Add(argument);
        }
        using var watchdog = Process.Start(start);
    }

    private void PgCtl(params string[] arguments) =>
        RunAs(Path.Combine(_binaries!, "pg_ctl"), [.. arguments, "-D", _dataDirectory!, "-w", "-t", "60"]);

    private static bool IsRoot => Environment.UserName == "root";

    private static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }
        return Directory.EnumerateDirectories(root)
            .Select(version => Path.Combine(version, "bin"))
            .Where(bin => File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")))
            .OrderByDescending(bin => bin, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>initdb and pg_ctl refuse to run as root, so they run as the postgres user then.</summary>
    private static void RunAs(string program, params string[] arguments)
    {
        if (IsRoot)
        {
            Run("runuser", ["-u", "postgres", "--", program, .. arguments]);
        }
        else
        {
            Run(program, arguments);
        }
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill();
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} did not finish within 120 s.");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {output.Result}{error.Result}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
