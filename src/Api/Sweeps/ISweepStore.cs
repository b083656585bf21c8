using ModelService.Api.Training;
using ModelService.Model.Artifacts;

namespace ModelService.Api.Sweeps;

/// <summary>Sweeps live in the job queue as jobs of their own kind: a worker claims one with
/// <see cref="IJobStore.TryClaim"/> like any job and holds it by the same lease, so renewal, cancel, expiry, restart and
/// fencing are the job store's. This adds what only sweeps have: the plan, per-run histories and the trials' outcome.
/// Implemented by each provider's job store and covered by the same contract tests.</summary>
internal interface ISweepStore
{
    /// <summary>Queues a sweep as one job, on the same terms as <see cref="IJobStore.Create"/> (the dataset must exist; the
    /// queue's capacity counts jobs and sweeps alike).</summary>
    SweepCreation CreateSweep(SweepPlan plan, int queueCapacity);

    /// <summary>The sweep with every run's history.</summary>
    SweepJob? GetSweep(string id);

    /// <summary>Newest first, without the runs' histories.</summary>
    IReadOnlyList<SweepJob> ListSweeps(JobStatus? status, int limit);

    /// <summary>Appends finished epochs, sets the progress (epochs finished over all runs) and the outcome so far.</summary>
    /// <exception cref="LeaseLostException">The lease is no longer held.</exception>
    void RecordSweep(JobLease lease, IReadOnlyList<RunEpoch> epochs, int epochsDone, SweepOutcome outcome);

    /// <summary>Stores the kept models, the outcome and the sweep's success in one step, and with
    /// <paramref name="activate"/> makes the first kept model (the best) active; false, storing nothing, when the lease
    /// is no longer held.</summary>
    bool TrySucceedSweep(JobLease lease, IReadOnlyList<TrainedModel> kept, bool activate, SweepOutcome outcome);
}

internal sealed record SweepCreation(JobCreationResult Result, SweepJob? Sweep);
