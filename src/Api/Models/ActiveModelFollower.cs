using Microsoft.Extensions.Options;
using ModelService.Api.Storage;

namespace ModelService.Api.Models;

/// <summary>Keeps this process on the model the store points at: at once when a change is announced, and every
/// Cluster:ActiveModelPollMilliseconds in case an announcement was missed (a dropped connection, say).</summary>
internal sealed partial class ActiveModelFollower(
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
                        registry.LoadActiveModel(() => ActiveModelLoader.BundledDefault(paths));
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
