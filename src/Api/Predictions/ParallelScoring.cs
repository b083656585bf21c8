using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Options;
using ModelService.Model.Data;
using ModelService.Model.Inference;

namespace ModelService.Api.Predictions;

/// <summary>
/// The one place where a request's work runs on several cores (v1 predictions and <c>/v2</c> inference). All of it
/// goes through one scheduler that runs at most <see cref="PredictionOptions.MaxParallelism"/> work items at a time
/// across every request, so that concurrent large requests share the cores instead of each taking all of them.
/// Small inputs never come here: they are scored on the request's thread.
/// </summary>
internal sealed class ParallelScoring
{
    /// <summary>Rows per slice when scoring in parallel; fewer rows than two slices are scored on the calling thread.</summary>
    public const int SliceRows = 16 * 1024;

    private readonly ParallelOptions _parallel;

    public ParallelScoring(IOptions<PredictionOptions> options)
    {
        var limit = options.Value.MaxParallelism;
        MaxParallelism = limit;
        _parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = limit,
            TaskScheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, limit).ConcurrentScheduler,
        };
    }

    public int MaxParallelism { get; }

    /// <summary>Scores <paramref name="rowCount"/> rows of <paramref name="values"/> into <paramref name="predictions"/>,
    /// in slices of <see cref="SliceRows"/> rows when there are several (the predictor is safe for concurrent callers).
    /// Throws what <see cref="Predictor.Predict(ReadOnlySpan{FeatureValue}, int, Span{double})"/> throws.</summary>
    public void Predict(Predictor model, ReadOnlyMemory<FeatureValue> values, int rowCount, double[] predictions)
    {
        ArgumentNullException.ThrowIfNull(model);
        var width = model.Manifest.Features.Count;
        Slices(rowCount, (start, count) =>
            model.Predict(values.Span.Slice(start * width, count * width), count, predictions.AsSpan(start, count)));
    }

    /// <summary>Calls <paramref name="score"/>(start, count) over <paramref name="rowCount"/> rows: in slices of
    /// <see cref="SliceRows"/> rows on several threads when there are two slices or more, else once on the calling thread.</summary>
    public void Slices(int rowCount, Action<int, int> score) => Slices(rowCount, 1, score);

    /// <summary>As <see cref="Slices(int, Action{int, int})"/> for rows that each cost <paramref name="positionsPerRow"/>
    /// rows of work (a tensor sample scored per position): a slice holds about <see cref="SliceRows"/> positions.</summary>
    public void Slices(int rowCount, int positionsPerRow, Action<int, int> score)
    {
        ArgumentNullException.ThrowIfNull(score);
        var rowsPerSlice = Math.Max(1, SliceRows / Math.Max(1, positionsPerRow));
        var slices = (rowCount + rowsPerSlice - 1) / rowsPerSlice;
        if (slices < 2 || MaxParallelism < 2)
        {
            score(0, rowCount);
            return;
        }
        For(slices, slice =>
        {
            var start = slice * rowsPerSlice;
            score(start, Math.Min(rowsPerSlice, rowCount - start));
            return true;
        });
    }

    /// <summary>Runs <paramref name="body"/> for 0 to <paramref name="count"/> - 1 on up to
    /// <see cref="PredictionOptions.MaxParallelism"/> threads. Once a call returns false no further item starts, and the
    /// result is false. An exception thrown by an item is rethrown as it is, not wrapped.</summary>
    public bool For(int count, Func<int, bool> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return Parallel.For(0, count, _parallel, (index, loop) =>
            {
                if (!body(index))
                {
                    loop.Stop();
                }
            }).IsCompleted;
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
            throw;
        }
    }
}
