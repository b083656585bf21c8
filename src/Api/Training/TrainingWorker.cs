using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace ModelService.Api.Training;

/// <summary>Consumes the training queue one job at a time. Each job runs on a dedicated thread so that a long training
/// run never holds a thread-pool thread that requests need, at a lower CPU priority (Training:IdleScheduling and
/// Training:Niceness) so that it does not take the CPU from them either. On shutdown the running job is cancelled cooperatively and
/// recorded as cancelled; queued jobs stay queued and are picked up by the next start.</summary>
internal sealed partial class TrainingWorker(
    TrainingQueue queue, JobStore jobs, TrainingJobRunner runner, TrainingEvents events, IOptions<TrainingJobOptions> options,
    ILogger<TrainingWorker> logger) : BackgroundService
{
    public const string InterruptedError = "interrupted by restart";
    public const string CancelledByRequest = "cancelled by request";
    public const string CancelledByShutdown = "cancelled by shutdown";

    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private IReadOnlyList<string> _recovered = [];

    /// <summary>Asks a running job to stop at its next batch; false when this worker is not running it.</summary>
    public bool TryCancelRunning(string jobId)
    {
        if (!_running.TryGetValue(jobId, out var cancellation))
        {
            return false;
        }
        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The job finished between the lookup and the cancel.
        }
        return true;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Recovery runs before the service answers requests: a job the previous process left running can never
        // finish, and queued jobs were promised a run.
        _recovered = jobs.RecoverAfterRestart(InterruptedError);
        if (_recovered.Count > 0)
        {
            LogRequeued(logger, _recovered.Count);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = RequeueAsync(_recovered, stoppingToken);
        try
        {
            await foreach (var jobId in queue.ReadAllAsync(stoppingToken))
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    // Jobs still in the channel stay queued in the store and are queued again by the next start.
                    break;
                }
                try
                {
                    await RunAsync(jobId, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogWorkerError(logger, e, jobId);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task RequeueAsync(IReadOnlyList<string> jobIds, CancellationToken stoppingToken)
    {
        try
        {
            foreach (var jobId in jobIds)
            {
                await queue.EnqueueAsync(jobId, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Shut down before every recovered job found room; they stay queued for the next start.
        }
    }

    private async Task RunAsync(string jobId, CancellationToken stoppingToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _running[jobId] = cancellation;
        try
        {
            if (stoppingToken.IsCancellationRequested || jobs.Get(jobId) is not { Status: JobStatus.Queued } job || !jobs.TryStart(jobId))
            {
                return;
            }
            LogStarted(logger, jobId, job.Request.DatasetId, job.Request.Epochs);
            var stopwatch = Stopwatch.StartNew();
            try
            {
                var manifest = await RunOnDedicatedThread(() => runner.Run(job, cancellation.Token), jobId);
                jobs.MarkSucceeded(jobId, manifest.Id);
                LogSucceeded(logger, jobId, manifest.Id, manifest.Training.Epochs, stopwatch.ElapsedMilliseconds);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                var reason = stoppingToken.IsCancellationRequested ? CancelledByShutdown : CancelledByRequest;
                jobs.MarkCancelled(jobId, reason);
                LogCancelled(logger, jobId, reason, stopwatch.ElapsedMilliseconds);
            }
            catch (JobFailedException e)
            {
                jobs.MarkFailed(jobId, e.Message);
                LogFailed(logger, jobId, e.Message, stopwatch.ElapsedMilliseconds);
            }
            catch (Exception e)
            {
                // The message may name files under the storage root; the log has it, the job (readable by anyone) does not.
                jobs.MarkFailed(jobId, $"Training failed unexpectedly ({e.GetType().Name}); the error has been logged.");
                LogCrashed(logger, e, jobId, stopwatch.ElapsedMilliseconds);
            }
        }
        finally
        {
            _running.TryRemove(jobId, out _);
            events.Complete(jobId);
        }
    }

    private Task<T> RunOnDedicatedThread<T>(Func<T> work, string jobId)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                var priority = TrainingThreadPriority.ApplyToCurrentThread(options.Value.IdleScheduling, options.Value.Niceness);
                LogPriority(logger, jobId, priority);
                completion.SetResult(work());
            }
            catch (Exception e)
            {
                completion.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = $"training {jobId}",
        };
        thread.Start();
        return completion.Task;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Training job {JobId} runs at CPU priority {Priority}")]
    private static partial void LogPriority(ILogger logger, string jobId, string priority);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-queued {Count} training jobs left queued by the previous run")]
    private static partial void LogRequeued(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Training job {JobId} started on dataset {DatasetId} for {Epochs} epochs")]
    private static partial void LogStarted(ILogger logger, string jobId, string? datasetId, int? epochs);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Training job {JobId} produced model {ModelId} after {Epochs} epochs in {ElapsedMs} ms")]
    private static partial void LogSucceeded(ILogger logger, string jobId, string modelId, int epochs, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Training job {JobId} {Reason} after {ElapsedMs} ms")]
    private static partial void LogCancelled(ILogger logger, string jobId, string reason, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Training job {JobId} failed after {ElapsedMs} ms: {Error}")]
    private static partial void LogFailed(ILogger logger, string jobId, string error, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training job {JobId} failed unexpectedly after {ElapsedMs} ms")]
    private static partial void LogCrashed(ILogger logger, Exception exception, string jobId, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training worker could not process job {JobId}; continuing with the next job")]
    private static partial void LogWorkerError(ILogger logger, Exception exception, string jobId);
}
