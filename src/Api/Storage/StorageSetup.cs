using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ModelService.Api.Datasets;
using ModelService.Api.Health;
using ModelService.Api.Local;
using ModelService.Api.Models;
using ModelService.Api.Postgres;
using ModelService.Api.Training;

namespace ModelService.Api.Storage;

internal static partial class StorageSetup
{
    /// <summary>The stores of the provider Storage:Provider names, behind the features' interfaces: feature code never
    /// learns which one it runs on.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        services.AddValidatedOptions<StorageOptions>(StorageOptions.Section);
        services.AddValidatedOptions<ClusterOptions>(ClusterOptions.Section);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<StoragePaths>();
        services.AddSingleton<StoreSignals>();
        services.AddLocalStores();
        services.AddPostgresStores();
        services.AddSingleton<IDatasetStore>(provider => Pick<IDatasetStore, LocalDatasetStore, PostgresDatasetStore>(provider));
        services.AddSingleton<IJobStore>(provider => Pick<IJobStore, LocalJobStore, PostgresJobStore>(provider));
        services.AddSingleton<IModelStore>(provider => Pick<IModelStore, LocalModelStore, PostgresModelStore>(provider));
        services.AddHostedService<StorageInitializer>();
        services.AddHostedService<NotificationListener>();
        services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: [HealthEndpoints.ReadyTag]);
        return services;
    }

    private static bool IsPostgres(IServiceProvider provider) =>
        provider.GetRequiredService<IOptions<StorageOptions>>().Value.Provider == StorageProvider.Postgres;

    private static TService Pick<TService, TLocal, TPostgres>(IServiceProvider provider)
        where TLocal : TService
        where TPostgres : TService
        where TService : notnull =>
        IsPostgres(provider) ? provider.GetRequiredService<TPostgres>() : provider.GetRequiredService<TLocal>();

    /// <summary>Prepares the storage folder and brings the store's schema up to date before anything else starts.</summary>
    private sealed partial class StorageInitializer(IServiceProvider provider, ILogger<StorageInitializer> logger) : IHostedService
    {
        private static readonly TimeSpan DatabasePatience = TimeSpan.FromSeconds(60);

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            provider.GetRequiredService<StoragePaths>().Initialize();
            if (IsPostgres(provider))
            {
                await PostgresStorage.MigrateAsync(provider.GetRequiredService<PostgresDatabase>(), DatabasePatience, logger, cancellationToken);
            }
            else
            {
                provider.GetRequiredService<LocalJobStore>().Initialize();
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Relays the database's change notifications; the local provider raises its signals itself.</summary>
    private sealed class NotificationListener(IServiceProvider provider) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
            IsPostgres(provider) ? provider.GetRequiredService<PostgresListener>().RunAsync(stoppingToken) : Task.CompletedTask;
    }

    /// <summary>The provider's own check: a writable folder, or a database that answers.</summary>
    private sealed class StorageHealthCheck(IServiceProvider provider) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            IsPostgres(provider)
                ? provider.GetRequiredService<PostgresHealthCheck>().CheckHealthAsync(context, cancellationToken)
                : provider.GetRequiredService<LocalStorageHealthCheck>().CheckHealthAsync(context, cancellationToken);
    }
}
