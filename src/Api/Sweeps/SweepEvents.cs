using System.Net.ServerSentEvents;
using ModelService.Api.Training;

namespace ModelService.Api.Sweeps;

/// <summary>In-process broadcast of a running sweep's events (as <see cref="TrainingEvents"/> is for jobs).
/// <see cref="SseItem{T}.EventId"/> keys each event ("epoch:run:n", "trial:t"), so a follower that also reads the store
/// sends each once.</summary>
internal sealed class SweepEvents
{
    private readonly EventFeeds<SseItem<string>> _feeds = new();

    public void Publish(string sweepId, SseItem<string> item) => _feeds.Publish(sweepId, _ => item);

    /// <summary>The sweep has ended (its outcome is stored): followers' streams end and the buffer goes.</summary>
    public void Complete(string sweepId) => _feeds.Complete(sweepId);

    public EventFeeds<SseItem<string>>.Subscription Follow(string sweepId) => _feeds.Follow(sweepId);
}
