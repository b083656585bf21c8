using System.Diagnostics;
using System.Diagnostics.Metrics;
using ModelService.Api.Models;
using ModelService.Api.Storage;
using ModelService.Api.Training;
using ModelService.Model.Serialization;

namespace ModelService.Api.Training;

/// <summary>Spans of training jobs, and on /metrics modelservice_training_jobs, modelservice_training_queue_depth and
/// modelservice_training_epoch_duration_seconds.</summary>
internal sealed class TrainingTelemetry
{
    public const string MeterName = "ModelService.Training";
    public const string ActivitySourceName = "ModelService.Training";
    public const string EpochDurationName = "modelservice.training.epoch.duration";

    /// <summary>Bucket bounds of the epoch duration, in seconds: from small tabular jobs to large ones.</summary>
    public static readonly double[] EpochDurationBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

    /// <summary>Spans for training jobs; requests get theirs from the ASP.NET Core instrumentation.</summary>
    public static readonly ActivitySource Jobs = new(ActivitySourceName);

    private readonly Histogram<double> _epochDuration;

    public TrainingTelemetry(IMeterFactory meters, IJobStore jobs)
    {
        var meter = meters.Create(MeterName);
        _epochDuration = meter.CreateHistogram<double>(EpochDurationName, unit: "s", description: "Wall time of one training epoch.");
        meter.CreateObservableGauge("modelservice.training.jobs", () => JobsByState(jobs), description: "Training jobs by state.");
        meter.CreateObservableGauge("modelservice.training.queue.depth", () => QueueDepth(jobs),
            description: "Training jobs waiting for a worker.");
    }

    public void RecordEpoch(TimeSpan duration) => _epochDuration.Record(duration.TotalSeconds);

    private static IEnumerable<Measurement<long>> QueueDepth(IJobStore jobs) =>
        Counts(jobs) is { } counts ? [new Measurement<long>(counts.GetValueOrDefault(JobStatus.Queued))] : [];

    /// <summary>Read from the store at each scrape; nothing is reported while the store is unreachable.</summary>
    private static IEnumerable<Measurement<long>> JobsByState(IJobStore jobs)
    {
        if (Counts(jobs) is not { } counts)
        {
            return [];
        }
        return Enum.GetValues<JobStatus>().Select(state => new Measurement<long>(counts.GetValueOrDefault(state),
            new KeyValuePair<string, object?>("state", WireNames.Of(state))));
    }

    private static IReadOnlyDictionary<JobStatus, long>? Counts(IJobStore jobs)
    {
        try
        {
            return jobs.CountByStatus();
        }
        catch (StoreUnavailableException)
        {
            return null;
        }
    }
}
