using Microsoft.Extensions.Options;
using ModelService.Api.Storage;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Models;

internal static partial class ModelsSetup
{
    public static IServiceCollection AddModels(this IServiceCollection services)
    {
        services.AddSingleton<PredictorCache>();
        services.AddSingleton<ModelRegistry>();
        services.AddHostedService<ActiveModelLoader>();
        services.AddHostedService<ActiveModelFollower>();
        return services;
    }

    /// <summary>The bundled default model under a new id, as installed into an empty store.</summary>
    private static TrainedModel BundledDefault(StoragePaths paths) =>
        ModelArtifact.WithId(ModelArtifact.Load(paths.DefaultModel), Ids.NewModelId(),
            new Dictionary<string, string> { [ModelTags.Source] = "bundled-default" });

    /// <summary>Loads the active model before the server starts listening, installing the bundled default into an empty
    /// store. A failure here is logged and leaves the service up but not ready (/health/ready answers 503).</summary>
    private sealed partial class ActiveModelLoader(ModelRegistry registry, StoragePaths paths, ILogger<ActiveModelLoader> logger)
        : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                registry.LoadActiveModel(() => BundledDefault(paths));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Start-up must survive any artifact or store problem: the service stays up and reports not ready, and
                // the follower loads the active model once the store answers.
                LogNoModel(logger, e, paths.DefaultModel);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Critical,
            Message = "No model could be loaded and the bundled default at {BundledPath} could not be installed; predictions answer 503")]
        private static partial void LogNoModel(ILogger logger, Exception exception, string bundledPath);
    }

    /// <summary>Keeps this process on the model the store points at: at once when a change is announced, and every
    /// Cluster:ActiveModelPollMilliseconds in case an announcement was missed (a dropped connection, say).</summary>
    private sealed partial class ActiveModelFollower(
        ModelRegistry registry, StoragePaths paths, StoreSignals signals, IOptions<ClusterOptions> options, ILogger<ActiveModelFollower> logger)
        : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            using var wake = new SemaphoreSlim(0, 1);
            void OnChange()
            {
                if (wake.CurrentCount == 0)
                {
                    try
                    {
                        wake.Release();
                    }
                    catch (SemaphoreFullException)
                    {
                        // Already signalled.
                    }
                }
            }
            signals.ActiveModelChanged += OnChange;
            var failing = false;
            try
            {
                while (!stoppingToken.IsCancellationRequested)
                {
                    await wake.WaitAsync(TimeSpan.FromMilliseconds(options.Value.ActiveModelPollMilliseconds), stoppingToken);
                    try
                    {
                        if (registry.Active is null)
                        {
                            registry.LoadActiveModel(() => BundledDefault(paths));
                        }
                        else
                        {
                            registry.Refresh();
                        }
                        failing = false;
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        if (!failing)
                        {
                            LogRefreshFailed(logger, e);
                        }
                        failing = true;
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down.
            }
            finally
            {
                signals.ActiveModelChanged -= OnChange;
            }
        }

        [LoggerMessage(Level = LogLevel.Warning,
            Message = "Cannot read the active model from the store; predictions keep using the loaded model until it answers")]
        private static partial void LogRefreshFailed(ILogger logger, Exception exception);
    }
}
