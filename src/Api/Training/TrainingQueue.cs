using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace ModelService.Api.Training;

/// <summary>Ids of queued jobs waiting for the worker, in a bounded channel: a full queue refuses new jobs instead of
/// growing without limit.</summary>
internal sealed class TrainingQueue(IOptions<TrainingJobOptions> options)
{
    private readonly Channel<string> _channel = Channel.CreateBounded<string>(new BoundedChannelOptions(options.Value.QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    /// <summary>Jobs waiting for the worker.</summary>
    public int Depth => _channel.Reader.Count;

    /// <summary>False when the queue is full.</summary>
    public bool TryEnqueue(string jobId) => _channel.Writer.TryWrite(jobId);

    /// <summary>Waits for room; used for jobs recovered at start-up, which were accepted before.</summary>
    public ValueTask EnqueueAsync(string jobId, CancellationToken cancellationToken) => _channel.Writer.WriteAsync(jobId, cancellationToken);

    public IAsyncEnumerable<string> ReadAllAsync(CancellationToken cancellationToken) => _channel.Reader.ReadAllAsync(cancellationToken);
}
