using ModelService.Model.Training;

namespace ModelService.Api.Training;

/// <summary>One finished epoch as streamed to followers of a job; <see cref="ElapsedSeconds"/> is the training time so
/// far (null when replayed from the job database, which does not keep it).</summary>
internal sealed record EpochEvent(int Epoch, int? Epochs, double TrainLoss, double? ValidationLoss, double? ElapsedSeconds);

/// <summary>In-process broadcast of training progress: the runner publishes each epoch, followers of a running job get
/// what happened so far and then every new epoch. A job's buffer lives only while it runs; afterwards the job database
/// has its history.</summary>
internal sealed class TrainingEvents(TrainingTelemetry telemetry)
{
    private readonly EventFeeds<EpochEvent> _feeds = new();

    public void PublishEpoch(string jobId, EpochProgress progress) => _feeds.Publish(jobId, history =>
    {
        var previous = history.Count > 0 ? history[^1].ElapsedSeconds ?? 0 : 0;
        telemetry.RecordEpoch(TimeSpan.FromSeconds(progress.Elapsed.TotalSeconds - previous));
        return new EpochEvent(progress.Epoch, progress.Epochs, progress.TrainLoss, progress.ValidationLoss, progress.Elapsed.TotalSeconds);
    });

    /// <summary>The job has ended (its outcome is in the job database): followers' streams end and the buffer goes.</summary>
    public void Complete(string jobId) => _feeds.Complete(jobId);

    /// <summary>Epochs published so far and a reader of those to come; dispose the subscription to stop following.</summary>
    public EventFeeds<EpochEvent>.Subscription Follow(string jobId) => _feeds.Follow(jobId);
}
