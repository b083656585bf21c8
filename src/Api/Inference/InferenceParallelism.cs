using System.Runtime.ExceptionServices;

namespace ModelService.Api.Inference;

/// <summary>The one place where an inference request's scoring runs on several cores. Every request's slices go through
/// one scheduler that runs at most <see cref="MaxParallelism"/> of them at a time, so that concurrent large requests
/// share the cores instead of each taking all of them. Inputs of fewer than two slices never come here.</summary>
internal sealed class InferenceParallelism
{
    /// <summary>Rows per slice: large enough that handing a slice to another thread costs little against scoring it.</summary>
    public const int SliceRows = 16 * 1024;

    private readonly ParallelOptions _parallel;

    public InferenceParallelism()
    {
        MaxParallelism = Environment.ProcessorCount;
        _parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = MaxParallelism,
            TaskScheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, MaxParallelism).ConcurrentScheduler,
        };
    }

    public int MaxParallelism { get; }

    /// <summary>Runs <paramref name="body"/> for 0 to <paramref name="count"/> - 1; an exception thrown by an item is
    /// rethrown as it is, not wrapped.</summary>
    public void For(int count, Action<int> body)
    {
        try
        {
            Parallel.For(0, count, _parallel, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }
}
