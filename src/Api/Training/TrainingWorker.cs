using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using ModelService.Api.Storage;
using ModelService.Api.Models;
using ModelService.Api.Sweeps;

namespace ModelService.Api.Training;

/// <summary>Claims queued jobs from the store one at a time (when Training:RunJobs is on) and runs each on a dedicated
/// thread, so that a long training run never holds a thread-pool thread that requests need, at a lower CPU priority
/// (Training:IdleScheduling and Training:Niceness) so that it does not take the CPU from them either. While a job runs
/// its lease is renewed every Training:PollMilliseconds; a cancel requested on any process stops it, and a lost lease
/// stops it without recording anything. On shutdown the running job is handed back to the queue. A sweep is a job of its
/// own kind (its id says so) and runs here as one unit, through <see cref="SweepRunner"/>. Claim, lease, cancel and
/// hand-back are one state machine, so they stay in one file.</summary>
internal sealed partial class TrainingWorker(
    IJobStore jobs, TrainingJobRunner runner, SweepRunner sweeps, ModelRegistry models, TrainingEvents events, SweepEvents sweepEvents,
    StoreSignals signals,
    IOptions<TrainingQueueOptions> options, IOptions<ClusterOptions> cluster, TimeProvider clock, ILogger<TrainingWorker> logger)
    : BackgroundService
{
    public const string CancelledByRequest = "cancelled by request";

    private readonly ConcurrentDictionary<string, RunningJob> _running = new(StringComparer.Ordinal);

    public static string AttemptsExhausted(int maxAttempts) =>
        $"the worker running it stopped responding on each of its {maxAttempts} attempts (Training:MaxAttempts)";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunJobs)
        {
            return;
        }
        using var wake = new SemaphoreSlim(0, 1);
        void OnQueued() => Signal(wake);
        void OnCancel(string jobId) => Stop(jobId, StopReason.CancelRequested);
        signals.JobQueued += OnQueued;
        signals.CancelRequested += OnCancel;
        LogWorking(logger, cluster.Value.InstanceName, options.Value.LeaseSeconds, options.Value.MaxAttempts);
        var failing = false;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                JobLease? lease = null;
                try
                {
                    var requeued = jobs.RequeueExpired(options.Value.MaxAttempts);
                    if (requeued > 0)
                    {
                        LogRequeued(logger, requeued);
                    }
                    lease = jobs.TryClaim(cluster.Value.InstanceName, options.Value.Lease);
                    failing = false;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    if (!failing)
                    {
                        LogClaimFailed(logger, e);
                    }
                    failing = true;
                }
                if (lease is null)
                {
                    await wake.WaitAsync(options.Value.PollInterval, stoppingToken);
                    continue;
                }
                try
                {
                    await RunAsync(lease, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogWorkerError(logger, e, lease.JobId);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            signals.JobQueued -= OnQueued;
            signals.CancelRequested -= OnCancel;
        }
    }

    private async Task RunAsync(JobLease lease, CancellationToken stoppingToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var running = new RunningJob(cancellation);
        _running[lease.JobId] = running;
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(lease, running, heartbeatStop.Token);
        var job = lease.Job;
        LogStarted(logger, job.Id, lease.Attempt, job.Request.DatasetId, job.Request.Epochs);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var record = await RunOnDedicatedThread(() => Execute(lease, cancellation.Token), job.Id);
            await heartbeatStop.CancelAsync();
            await heartbeat;
            if (running.Reason == StopReason.LeaseLost || !record())
            {
                LogLeaseLost(logger, job.Id, lease.Attempt);
                return;
            }
            LogSucceeded(logger, job.Id, stopwatch.ElapsedMilliseconds);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            switch (running.Reason ?? StopReason.Shutdown)
            {
                case StopReason.LeaseLost:
                    LogLeaseLost(logger, job.Id, lease.Attempt);
                    break;
                case StopReason.Shutdown:
                    jobs.TryRelease(lease);
                    LogReleased(logger, job.Id, stopwatch.ElapsedMilliseconds);
                    break;
                default:
                    jobs.TryFinish(lease, JobStatus.Cancelled, CancelledByRequest);
                    LogCancelled(logger, job.Id, CancelledByRequest, stopwatch.ElapsedMilliseconds);
                    break;
            }
        }
        catch (LeaseLostException)
        {
            LogLeaseLost(logger, job.Id, lease.Attempt);
        }
        catch (JobFailedException e)
        {
            jobs.TryFinish(lease, JobStatus.Failed, e.Message);
            LogFailed(logger, job.Id, e.Message, stopwatch.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The message may name files under the storage root; the log has it, the job (readable by anyone) does not.
            jobs.TryFinish(lease, JobStatus.Failed, $"Training failed unexpectedly ({e.GetType().Name}); the error has been logged.");
            LogCrashed(logger, e, job.Id, stopwatch.ElapsedMilliseconds);
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
            _running.TryRemove(job.Id, out _);
            events.Complete(job.Id);
            sweepEvents.Complete(job.Id);
        }
    }

    /// <summary>Trains the claimed job or sweep; returns the step that records its success (false when the lease was lost).</summary>
    private Func<bool> Execute(JobLease lease, CancellationToken cancellationToken)
    {
        if (Ids.IsSweepId(lease.JobId))
        {
            return sweeps.Run(lease, cancellationToken);
        }
        var model = runner.Run(lease, cancellationToken);
        var activate = lease.Job.Request.Activate == true;
        return () =>
        {
            if (!jobs.TrySucceed(lease, model, activate))
            {
                return false;
            }
            models.Adopt(model, activate);
            LogProduced(logger, lease.JobId, model.Manifest.Id, model.Manifest.Training.Epochs);
            return true;
        };
    }

    /// <summary>Renews the lease until stopped. A store that cannot be reached is retried; once the lease has run out
    /// without a renewal, another worker may have the job, so this one stops.</summary>
    private async Task HeartbeatAsync(JobLease lease, RunningJob running, CancellationToken stop)
    {
        var renewed = clock.GetTimestamp();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(options.Value.PollInterval, clock, stop);
                LeaseState state;
                try
                {
                    state = jobs.Renew(lease, options.Value.Lease);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogRenewFailed(logger, e, lease.JobId);
                    state = clock.GetElapsedTime(renewed) >= options.Value.Lease ? LeaseState.Lost : LeaseState.Held;
                    if (state == LeaseState.Held)
                    {
                        continue;
                    }
                }
                switch (state)
                {
                    case LeaseState.Held:
                        renewed = clock.GetTimestamp();
                        break;
                    case LeaseState.CancelRequested:
                        renewed = clock.GetTimestamp();
                        Stop(lease.JobId, StopReason.CancelRequested);
                        break;
                    default:
                        Stop(lease.JobId, StopReason.LeaseLost);
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The job ended.
        }
    }

    private void Stop(string jobId, StopReason reason)
    {
        if (!_running.TryGetValue(jobId, out var running))
        {
            return;
        }
        running.Reason ??= reason;
        try
        {
            running.Cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The job finished between the lookup and the cancel.
        }
    }

    private static void Signal(SemaphoreSlim wake)
    {
        try
        {
            if (wake.CurrentCount == 0)
            {
                wake.Release();
            }
        }
        catch (Exception e) when (e is SemaphoreFullException or ObjectDisposedException)
        {
            // Already signalled, or the worker stopped.
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

    private enum StopReason
    {
        CancelRequested,
        LeaseLost,
        Shutdown,
    }

    private sealed class RunningJob(CancellationTokenSource cancellation)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;

        public StopReason? Reason { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Training worker {Worker} claims jobs (lease {LeaseSeconds} s, at most {MaxAttempts} attempts)")]
    private static partial void LogWorking(ILogger logger, string worker, int leaseSeconds, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Training job {JobId} runs at CPU priority {Priority}")]
    private static partial void LogPriority(ILogger logger, string jobId, string priority);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} training jobs whose worker stopped responding were queued again or failed")]
    private static partial void LogRequeued(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot claim training jobs from the store; retrying")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot renew the lease of training job {JobId}; retrying")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Training job {JobId} attempt {Attempt} started on dataset {DatasetId} for {Epochs} epochs")]
    private static partial void LogStarted(ILogger logger, string jobId, int attempt, string? datasetId, int? epochs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Training job {JobId} produced model {ModelId} after {Epochs} epochs")]
    private static partial void LogProduced(ILogger logger, string jobId, string modelId, int epochs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Training job {JobId} succeeded in {ElapsedMs} ms")]
    private static partial void LogSucceeded(ILogger logger, string jobId, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Training job {JobId} {Reason} after {ElapsedMs} ms")]
    private static partial void LogCancelled(ILogger logger, string jobId, string reason, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Training job {JobId} handed back to the queue by shutdown after {ElapsedMs} ms")]
    private static partial void LogReleased(ILogger logger, string jobId, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Training job {JobId} attempt {Attempt} lost its lease; stopped without recording a result")]
    private static partial void LogLeaseLost(ILogger logger, string jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Training job {JobId} failed after {ElapsedMs} ms: {Error}")]
    private static partial void LogFailed(ILogger logger, string jobId, string error, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training job {JobId} failed unexpectedly after {ElapsedMs} ms")]
    private static partial void LogCrashed(ILogger logger, Exception exception, string jobId, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training worker could not process job {JobId}; continuing with the next job")]
    private static partial void LogWorkerError(ILogger logger, Exception exception, string jobId);
}
