using System.Net.ServerSentEvents;
using System.Threading.Channels;

namespace ModelService.Api.Sweeps;

/// <summary>In-process broadcast of a running sweep's events (as <see cref="Training.TrainingEvents"/> is for jobs): the
/// runner publishes, followers get what happened so far and then every new event. <see cref="SseItem{T}.EventId"/> keys
/// each event ("epoch:run:n", "trial:t"), so a follower that also reads the store sends each once.</summary>
internal sealed class SweepEvents
{
    private readonly Dictionary<string, Feed> _feeds = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public void Publish(string sweepId, SseItem<string> item)
    {
        lock (_lock)
        {
            var feed = FeedOf(sweepId);
            feed.History.Add(item);
            foreach (var follower in feed.Followers)
            {
                follower.Writer.TryWrite(item);
            }
        }
    }

    /// <summary>The sweep has ended (its outcome is stored): followers' streams end and the buffer goes.</summary>
    public void Complete(string sweepId)
    {
        lock (_lock)
        {
            if (_feeds.Remove(sweepId, out var feed))
            {
                foreach (var follower in feed.Followers)
                {
                    follower.Writer.TryComplete();
                }
            }
        }
    }

    public Subscription Follow(string sweepId)
    {
        var channel = Channel.CreateUnbounded<SseItem<string>>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            var feed = FeedOf(sweepId);
            feed.Followers.Add(channel);
            return new Subscription([.. feed.History], channel.Reader, () => Unfollow(sweepId, channel));
        }
    }

    private void Unfollow(string sweepId, Channel<SseItem<string>> channel)
    {
        lock (_lock)
        {
            if (_feeds.TryGetValue(sweepId, out var feed) && feed.Followers.Remove(channel) && feed.Followers.Count == 0
                && feed.History.Count == 0)
            {
                _feeds.Remove(sweepId);
            }
        }
    }

    private Feed FeedOf(string sweepId)
    {
        if (!_feeds.TryGetValue(sweepId, out var feed))
        {
            _feeds[sweepId] = feed = new Feed();
        }
        return feed;
    }

    private sealed class Feed
    {
        public List<SseItem<string>> History { get; } = [];

        public List<Channel<SseItem<string>>> Followers { get; } = [];
    }

    internal sealed class Subscription(IReadOnlyList<SseItem<string>> history, ChannelReader<SseItem<string>> reader, Action unfollow)
        : IDisposable
    {
        public IReadOnlyList<SseItem<string>> History { get; } = history;

        public ChannelReader<SseItem<string>> Reader { get; } = reader;

        public void Dispose() => unfollow();
    }
}
