using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace ModelService.Api.Tests;

/// <summary>The service over a temporary storage folder (deleted on dispose unless it was handed in, so that a second
/// factory can reopen the same store as a restarted service).</summary>
public sealed class ModelServiceFactory : WebApplicationFactory<Program>
{
    public const string ApiKey = "test-key-0123456789abcdef";

    private readonly bool _ownsStorage;
    private readonly Dictionary<string, string?> _settings;

    public ModelServiceFactory()
        : this(null)
    {
    }

    internal ModelServiceFactory(IDictionary<string, string?>? settings, string? storageRoot = null)
    {
        _ownsStorage = storageRoot is null;
        StorageRoot = storageRoot ?? NewStorageFolder();
        _settings = new Dictionary<string, string?>
        {
            ["Storage:Root"] = StorageRoot,
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Warning",
            ["Training:Threads"] = "1",
            // Tests run side by side and keep the cores busy; under SCHED_IDLE a job would wait for them to go idle.
            // TrainingPriorityTests checks the default.
            ["Training:IdleScheduling"] = "false",
            ["RateLimiting:Training:PermitLimit"] = "0",
            // Readiness waits for the start-up training run; tests that do not wait for readiness would race it.
            // TrainingWarmupTests covers it.
            ["TrainingWarmup:Enabled"] = "false",
            ["RateLimiting:Predictions:PermitLimit"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string StorageRoot { get; }

    /// <summary>A service whose <paramref name="policy"/> limit ("Predictions" or "Training", as in section RateLimiting)
    /// lets each client make <paramref name="permitLimit"/> requests a minute; every other test runs without limits.</summary>
    public static ModelServiceFactory WithRateLimit(string policy, int permitLimit) => new(new Dictionary<string, string?>
    {
        [$"RateLimiting:{policy}:PermitLimit"] = permitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [$"RateLimiting:{policy}:WindowSeconds"] = "60",
    });

    public static string NewStorageFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "modelservice-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    public HttpClient CreateClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsStorage)
        {
            DeleteStorage(StorageRoot);
        }
    }

    public static void DeleteStorage(string folder)
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
