using System.Threading.Channels;
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
    private readonly Dictionary<string, JobFeed> _feeds = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public void PublishEpoch(string jobId, EpochProgress progress)
    {
        var item = new EpochEvent(progress.Epoch, progress.Epochs, progress.TrainLoss, progress.ValidationLoss,
            progress.Elapsed.TotalSeconds);
        lock (_lock)
        {
            var feed = Feed(jobId);
            var previous = feed.History.Count > 0 ? feed.History[^1].ElapsedSeconds ?? 0 : 0;
            telemetry.RecordEpoch(TimeSpan.FromSeconds(progress.Elapsed.TotalSeconds - previous));
            feed.History.Add(item);
            foreach (var follower in feed.Followers)
            {
                follower.Writer.TryWrite(item);
            }
        }
    }

    /// <summary>The job has ended (its outcome is in the job database): followers' streams end and the buffer goes.</summary>
    public void Complete(string jobId)
    {
        lock (_lock)
        {
            if (_feeds.Remove(jobId, out var feed))
            {
                foreach (var follower in feed.Followers)
                {
                    follower.Writer.TryComplete();
                }
            }
        }
    }

    /// <summary>Epochs published so far and a reader of those to come; dispose the subscription to stop following.</summary>
    public Subscription Follow(string jobId)
    {
        var channel = Channel.CreateUnbounded<EpochEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            var feed = Feed(jobId);
            feed.Followers.Add(channel);
            return new Subscription([.. feed.History], channel.Reader, () => Unfollow(jobId, channel));
        }
    }

    private void Unfollow(string jobId, Channel<EpochEvent> channel)
    {
        lock (_lock)
        {
            if (_feeds.TryGetValue(jobId, out var feed) && feed.Followers.Remove(channel) && feed.Followers.Count == 0
                && feed.History.Count == 0)
            {
                // A follower of a job that never published (it was cancelled while queued, say) leaves nothing behind.
                _feeds.Remove(jobId);
            }
        }
    }

    private JobFeed Feed(string jobId)
    {
        if (!_feeds.TryGetValue(jobId, out var feed))
        {
            _feeds[jobId] = feed = new JobFeed();
        }
        return feed;
    }

    private sealed class JobFeed
    {
        public List<EpochEvent> History { get; } = [];

        public List<Channel<EpochEvent>> Followers { get; } = [];
    }

    internal sealed class Subscription(IReadOnlyList<EpochEvent> history, ChannelReader<EpochEvent> reader, Action unfollow)
        : IDisposable
    {
        public IReadOnlyList<EpochEvent> History { get; } = history;

        public ChannelReader<EpochEvent> Reader { get; } = reader;

        public void Dispose() => unfollow();
    }
}
