using ModelService.Model.Artifacts;

namespace ModelService.Api.Training;

/// <summary>Training jobs and their loss histories, and the queue workers claim them from. A claimed job is held by
/// a lease (<see cref="JobLease"/>): its worker renews it; a lease left to expire returns the job to the queue, and
/// every write a worker makes for a job is fenced by its lease, so a worker that lost it can record nothing. One
/// implementation per storage provider; every one passes the same contract tests.</summary>
internal interface IJobStore
{
    /// <summary>Queues a job, atomically with <see cref="Datasets.IDatasetStore.Delete"/>: the dataset must still exist,
    /// and fewer than <paramref name="queueCapacity"/> jobs may be waiting.</summary>
    JobCreation Create(TrainingRequest request, int queueCapacity);

    TrainingJob? Get(string id);

    /// <summary>Newest first, each with its history (read in one query, whatever the number of jobs).</summary>
    IReadOnlyList<TrainingJob> List(JobStatus? status, int limit);

    /// <summary>How many jobs are in each status (statuses without jobs are left out).</summary>
    IReadOnlyDictionary<JobStatus, long> CountByStatus();

    bool TryCancelQueued(string id, string reason);

    /// <summary>Asks the worker running <paramref name="id"/> to stop (it hears of it through
    /// <see cref="Storage.StoreSignals.CancelRequested"/> or its next heartbeat); false when the job is not running.</summary>
    bool RequestCancel(string id);

    /// <summary>Jobs whose lease expired go back to the queue, or fail once they have had <paramref name="maxAttempts"/>
    /// attempts (a cancel requested before the expiry cancels them instead); returns how many changed.</summary>
    int RequeueExpired(int maxAttempts);

    /// <summary>Claims the oldest queued job for <paramref name="worker"/> (attempts + 1, history cleared), or null when
    /// none is waiting. Concurrent workers never claim the same job.</summary>
    JobLease? TryClaim(string worker, TimeSpan lease);

    /// <summary>Extends the lease; says whether it is still held and whether a cancel was requested.</summary>
    LeaseState Renew(JobLease lease, TimeSpan duration);

    /// <summary>Appends finished epochs and moves the job's progress to the last of them.</summary>
    /// <exception cref="LeaseLostException">The lease is no longer held.</exception>
    void RecordEpochs(JobLease lease, IReadOnlyList<EpochLoss> epochs);

    /// <summary>Records the trained model and the job's success in one step (and, with <paramref name="activate"/>,
    /// makes it the active model); false, storing nothing, when the lease is no longer held.</summary>
    bool TrySucceed(JobLease lease, TrainedModel model, bool activate);

    /// <summary>Ends the job as failed or cancelled; false when the lease is no longer held.</summary>
    bool TryFinish(JobLease lease, JobStatus status, string error);

    /// <summary>Hands the job back to the queue (a graceful shutdown); false when the lease is no longer held.</summary>
    bool TryRelease(JobLease lease);
}

internal enum JobCreationResult
{
    Created,
    DatasetMissing,
    QueueFull,
}

internal sealed record JobCreation(JobCreationResult Result, TrainingJob? Job);

/// <summary>A worker's hold on one attempt of a job; the attempt number fences every write.</summary>
internal sealed record JobLease(TrainingJob Job, int Attempt, string Worker)
{
    public string JobId => Job.Id;
}

internal enum LeaseState
{
    Held,
    CancelRequested,
    Lost,
}

/// <summary>The worker no longer holds the job's lease: another worker may run it, so this one must stop.</summary>
internal sealed class LeaseLostException : Exception
{
    public LeaseLostException()
    {
    }

    public LeaseLostException(string message)
        : base(message)
    {
    }

    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
