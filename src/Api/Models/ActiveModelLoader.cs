using ModelService.Api.Storage;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Models;

/// <summary>Loads the active model before the server starts listening, installing the bundled default into an empty
/// store. A failure here is logged and leaves the service up but not ready (/health/ready answers 503).</summary>
internal sealed partial class ActiveModelLoader(ModelRegistry registry, StoragePaths paths, ILogger<ActiveModelLoader> logger)
    : IHostedService
{
    /// <summary>The bundled default model under a new id, as installed into an empty store.</summary>
    public static TrainedModel BundledDefault(StoragePaths paths) =>
        ModelArtifact.WithId(ModelArtifact.Load(paths.DefaultModel), Ids.NewModelId(),
            new Dictionary<string, string> { [ModelTags.Source] = "bundled-default" });

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
