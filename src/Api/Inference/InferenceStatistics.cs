using System.Collections.Concurrent;
using System.Diagnostics;

namespace ModelService.Api.Inference;

/// <summary>Triton's statistics: <c>GET /v2/models[/{name}[/versions/{version}]]/stats</c>.</summary>
internal sealed record ModelStatistics(IReadOnlyList<VersionStatistics> ModelStats);

/// <summary>One model version's counts since start-up: <see cref="InferenceCount"/> rows scored,
/// <see cref="ExecutionCount"/> requests scored, <see cref="LastInference"/> in ms since the Unix epoch (0: never).</summary>
internal sealed record VersionStatistics(string Name, string Version, long LastInference, long InferenceCount, long ExecutionCount,
    InferenceStats InferenceStats, IReadOnlyList<BatchStatistics> BatchStats);

/// <summary>Cumulative count and nanoseconds per phase: success and fail cover whole requests; compute_input is reading
/// and decoding the input, compute_infer scoring, compute_output encoding the answer. Nothing queues, so queue is the
/// request count with no time.</summary>
internal sealed record InferenceStats(Duration Success, Duration Fail, Duration Queue, Duration ComputeInput, Duration ComputeInfer,
    Duration ComputeOutput);

internal sealed record BatchStatistics(long BatchSize, Duration ComputeInput, Duration ComputeInfer, Duration ComputeOutput);

internal sealed record Duration(long Count, long Ns);

/// <summary>Counts inference requests per model version for the statistics endpoints, lock-free.</summary>
internal sealed class InferenceStatistics(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Counters> _versions = new(StringComparer.Ordinal);

    /// <summary>Times one request's phases; each mark records the time since the previous one.</summary>
    public static Timer Start() => new(Stopwatch.GetTimestamp());

    public void RecordSuccess(string version, int rows, in Timer timer)
    {
        var counters = _versions.GetOrAdd(version, _ => new Counters());
        Interlocked.Add(ref counters.Rows, rows);
        Add(ref counters.SuccessCount, ref counters.SuccessNs, timer.Total);
        Add(ref counters.InputCount, ref counters.InputNs, timer.Input);
        Add(ref counters.InferCount, ref counters.InferNs, timer.Infer);
        Add(ref counters.OutputCount, ref counters.OutputNs, Ticks(timer.OutputStart, Stopwatch.GetTimestamp()));
        Interlocked.Exchange(ref counters.LastInference, time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    public void RecordFailure(string version, in Timer timer)
    {
        var counters = _versions.GetOrAdd(version, _ => new Counters());
        Add(ref counters.FailCount, ref counters.FailNs, Ticks(timer.Started, Stopwatch.GetTimestamp()));
    }

    public VersionStatistics Describe(string name, string version)
    {
        var c = _versions.GetValueOrDefault(version) ?? new Counters();
        var executions = Volatile.Read(ref c.SuccessCount);
        return new VersionStatistics(name, version, Volatile.Read(ref c.LastInference), Volatile.Read(ref c.Rows), executions,
            new InferenceStats(
                new Duration(executions, Volatile.Read(ref c.SuccessNs)),
                new Duration(Volatile.Read(ref c.FailCount), Volatile.Read(ref c.FailNs)),
                new Duration(executions, 0),
                new Duration(Volatile.Read(ref c.InputCount), Volatile.Read(ref c.InputNs)),
                new Duration(Volatile.Read(ref c.InferCount), Volatile.Read(ref c.InferNs)),
                new Duration(Volatile.Read(ref c.OutputCount), Volatile.Read(ref c.OutputNs))),
            []);
    }

    private static void Add(ref long count, ref long ns, long value)
    {
        Interlocked.Increment(ref count);
        Interlocked.Add(ref ns, value);
    }

    private static long Ticks(long from, long to) => (long)Stopwatch.GetElapsedTime(from, to).TotalNanoseconds;

    /// <summary>Timestamps of one request: started, input decoded, scored; the output phase runs from the last mark to
    /// the recording.</summary>
    internal struct Timer(long started)
    {
        public readonly long Started = started;
        public long InputDone { get; private set; }
        public long InferDone { get; private set; }

        public readonly long OutputStart => InferDone;

        public readonly long Input => Ticks(Started, InputDone);

        public readonly long Infer => Ticks(InputDone, InferDone);

        public readonly long Total => Ticks(Started, Stopwatch.GetTimestamp());

        public void MarkInput() => InputDone = Stopwatch.GetTimestamp();

        public void MarkInfer() => InferDone = Stopwatch.GetTimestamp();
    }

    private sealed class Counters
    {
        public long Rows;
        public long LastInference;
        public long SuccessCount;
        public long SuccessNs;
        public long FailCount;
        public long FailNs;
        public long InputCount;
        public long InputNs;
        public long InferCount;
        public long InferNs;
        public long OutputCount;
        public long OutputNs;
    }
}
