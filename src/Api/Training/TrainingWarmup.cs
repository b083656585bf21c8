using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Training;

namespace ModelService.Api.Training;

/// <summary>The start-up training run (section "TrainingWarmup").</summary>
internal sealed class TrainingWarmupOptions
{
    public const string Section = "TrainingWarmup";

    /// <summary>Trains a throwaway network at start-up; readiness waits for it.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Epochs of the throwaway network (64 rows, batch 16: four steps an epoch).</summary>
    [Range(1, 100)]
    public int Epochs { get; set; } = 2;
}

/// <summary>
/// Trains a throwaway seed-shaped network through <see cref="Trainer"/> right after start-up, so that the one-time costs
/// of the training path (the JIT compiling it, LibTorch's first use of its kernels and allocator) are paid before the
/// first job instead of by it; the model is written to a temporary folder and deleted, which compiles the artifact writer
/// too. The HTTP server starts at once; <see cref="TrainingWarmupHealthCheck"/> keeps
/// <c>/health/ready</c> at 503 until the run has finished.
/// </summary>
internal sealed partial class TrainingWarmup(
    IOptions<TrainingWarmupOptions> options, IOptions<TrainingQueueOptions> jobOptions, ILogger<TrainingWarmup> logger) : BackgroundService
{
    private const int Rows = 64;

    private volatile bool _finished;

    /// <summary>Whether the warm-up has run (or was not wanted, or failed: it only ever saves time).</summary>
    public bool Finished => _finished || !options.Value.Enabled;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => options.Value.Enabled
        ? Task.Factory.StartNew(() => Warm(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
        : Task.CompletedTask;

    private void Warm(CancellationToken stoppingToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var data = SeedExample.HousePrices(Rows, seed: 1);
            var spec = new TrainingRequestSpec(SeedExample.Target, SeedExample.Features, new NetworkOptions([16, 8]),
                new TrainingOptions { Epochs = options.Value.Epochs, Threads = jobOptions.Value.EffectiveThreads });
            var trained = Trainer.Train(data, spec, _ => { }, stoppingToken);
            // A job goes on to give its model an id and tags and to write it; those paths are compiled here too, the
            // write into a temporary folder that is deleted at once.
            var model = ModelArtifact.WithId(trained, "warmup", new Dictionary<string, string>(StringComparer.Ordinal));
            var folder = Path.Combine(Path.GetTempPath(), $"modelservice-warmup-{Guid.NewGuid():N}");
            try
            {
                ModelArtifact.Save(model, folder);
            }
            finally
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            LogWarmedUp(logger, clock.ElapsedMilliseconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shut down during start-up.
        }
        catch (Exception e)
        {
            LogWarmupFailed(logger, e, clock.ElapsedMilliseconds);
        }
        finally
        {
            _finished = true;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Training warmed up in {ElapsedMs} ms")]
    private static partial void LogWarmedUp(ILogger logger, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Training warm-up failed after {ElapsedMs} ms; the first job will pay the start-up costs")]
    private static partial void LogWarmupFailed(ILogger logger, Exception exception, long elapsedMs);
}

/// <summary>Unhealthy (so not ready) while the training warm-up runs.</summary>
internal sealed class TrainingWarmupHealthCheck(TrainingWarmup warmup) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(warmup.Finished
            ? HealthCheckResult.Healthy("Training has warmed up.")
            : HealthCheckResult.Unhealthy("Training is warming up."));
}
