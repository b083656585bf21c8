using ModelService.Api.Infrastructure;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Models;

internal static partial class ModelStartup
{
    public static IServiceCollection AddModels(this IServiceCollection services)
    {
        services.AddSingleton<ModelStore>();
        services.AddSingleton<PredictorCache>();
        services.AddSingleton<ModelRegistry>();
        services.AddHostedService<ActiveModelLoader>();
        return services;
    }

    /// <summary>Loads the active model before the server starts listening, installing the bundled default into an empty
    /// store. A failure here is logged and leaves the service up but not ready (/health/ready answers 503).</summary>
    private sealed partial class ActiveModelLoader(ModelRegistry registry, StoragePaths paths, ILogger<ActiveModelLoader> logger)
        : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                registry.LoadActiveModel(paths.DefaultModel, bundled => ModelArtifact.WithId(bundled, Ids.NewModelId(),
                    new Dictionary<string, string> { [ModelTags.Source] = "bundled-default" }));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Start-up must survive any artifact problem: the service stays up and reports not ready.
                LogNoModel(logger, e, paths.DefaultModel);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Critical,
            Message = "No model could be loaded and the bundled default at {BundledPath} could not be installed; predictions answer 503")]
        private static partial void LogNoModel(ILogger logger, Exception exception, string bundledPath);
    }
}
