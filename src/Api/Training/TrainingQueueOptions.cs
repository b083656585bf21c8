using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Training;

/// <summary>The training queue, its workers and the limits on a training request (section "Training"; the network's own
/// settings are <see cref="Model.Training.TrainingOptions"/>).</summary>
internal sealed class TrainingQueueOptions
{
    public const string Section = "Training";

    /// <summary>Whether this process claims and runs jobs; API-only replicas of a cluster set it false.</summary>
    public bool RunJobs { get; set; } = true;

    /// <summary>How long a claimed job stays with its worker without a heartbeat; a job whose lease expires (its worker
    /// died) is queued again.</summary>
    [Range(2, 3600)]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>Attempts a job gets; one whose lease expires on the last attempt fails.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How often a worker renews its lease and checks for a cancel, and an idle worker looks for queued jobs
    /// that no notification announced.</summary>
    [Range(50, 60_000)]
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>LibTorch compute threads for a training job; 0 means max(1, processor count - 1), leaving a core for
    /// predictions.</summary>
    [Range(0, 1024)]
    public int Threads { get; set; }

    /// <summary>Runs the training thread under Linux's SCHED_IDLE policy: it trains on CPU time that requests leave
    /// and yields the moment a request thread wakes, so predictions keep their latency while a job runs, at the cost of
    /// slower training while the service is saturated. False leaves it to <see cref="Niceness"/>.</summary>
    public bool IdleScheduling { get; set; } = true;

    /// <summary>Linux nice value of the training thread (0-19) when <see cref="IdleScheduling"/> is off or refused:
    /// higher lets request threads take the CPU first; 0 trains at normal priority.</summary>
    [Range(0, 19)]
    public int Niceness { get; set; } = 10;

    /// <summary>Jobs that may wait in the queue; beyond that a submission is answered 503 with Retry-After.</summary>
    [Range(1, 100_000)]
    public int QueueCapacity { get; set; } = 32;

    [Range(1, 1_000_000)]
    public int MaxEpochs { get; set; } = 1000;

    [Range(1, long.MaxValue)]
    public long MaxParameters { get; set; } = 5_000_000;

    /// <summary>The most memory a job may need at its peak, estimated before it is queued from the data set's rows,
    /// the encoded width (one-hot columns included), the largest batch's activations and the parameters with their
    /// optimiser state; a request over it is a 400 that gives the estimate.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MaxWorkingSetBytes { get; set; } = 768L * 1024 * 1024;

    /// <summary>Seconds a client is told to wait (Retry-After) when the queue is full.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 30;

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(PollMilliseconds);

    public int EffectiveThreads => Threads > 0 ? Threads : Math.Max(1, Environment.ProcessorCount - 1);
}
