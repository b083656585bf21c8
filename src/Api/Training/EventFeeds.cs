using System.Threading.Channels;

namespace ModelService.Api.Training;

/// <summary>In-process broadcast of a running job's or sweep's events, by id: the runner publishes, followers get what
/// happened so far and then every new event. A feed lives only while its run does; afterwards the store has the history.</summary>
internal sealed class EventFeeds<T>
{
    private readonly Dictionary<string, Feed> _feeds = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Adds the event <paramref name="next"/> makes from the feed's history so far, and sends it to followers.</summary>
    public void Publish(string id, Func<IReadOnlyList<T>, T> next)
    {
        lock (_lock)
        {
            var feed = FeedOf(id);
            var item = next(feed.History);
            feed.History.Add(item);
            foreach (var follower in feed.Followers)
            {
                follower.Writer.TryWrite(item);
            }
        }
    }

    /// <summary>The run has ended (its outcome is stored): followers' streams end and the buffer goes.</summary>
    public void Complete(string id)
    {
        lock (_lock)
        {
            if (_feeds.Remove(id, out var feed))
            {
                foreach (var follower in feed.Followers)
                {
                    follower.Writer.TryComplete();
                }
            }
        }
    }

    /// <summary>Events published so far and a reader of those to come; dispose the subscription to stop following.</summary>
    public Subscription Follow(string id)
    {
        var channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            var feed = FeedOf(id);
            feed.Followers.Add(channel);
            return new Subscription([.. feed.History], channel.Reader, () => Unfollow(id, channel));
        }
    }

    private void Unfollow(string id, Channel<T> channel)
    {
        lock (_lock)
        {
            if (_feeds.TryGetValue(id, out var feed) && feed.Followers.Remove(channel) && feed.Followers.Count == 0
                && feed.History.Count == 0)
            {
                // A follower of a run that never published (cancelled while queued, say) leaves nothing behind.
                _feeds.Remove(id);
            }
        }
    }

    private Feed FeedOf(string id)
    {
        if (!_feeds.TryGetValue(id, out var feed))
        {
            _feeds[id] = feed = new Feed();
        }
        return feed;
    }

    private sealed class Feed
    {
        public List<T> History { get; } = [];

        public List<Channel<T>> Followers { get; } = [];
    }

    internal sealed class Subscription(IReadOnlyList<T> history, ChannelReader<T> reader, Action unfollow) : IDisposable
    {
        public IReadOnlyList<T> History { get; } = history;

        public ChannelReader<T> Reader { get; } = reader;

        public void Dispose() => unfollow();
    }
}
