using System.Diagnostics;
using System.Diagnostics.Metrics;
using ModelService.Api.Infrastructure;
using ModelService.Api.Models;
using ModelService.Api.Training;
using ModelService.Model.Serialization;

namespace ModelService.Api.Observability;

/// <summary>The service's own instruments (meter "ModelService"); the Prometheus exporter names them
/// modelservice_predicted_rows_total, modelservice_active_model_info, modelservice_training_jobs,
/// modelservice_training_queue_depth and modelservice_training_epoch_duration_seconds.</summary>
internal sealed class ServiceMetrics
{
    public const string MeterName = "ModelService";
    public const string ActivitySourceName = "ModelService.Training";
    public const string EpochDurationName = "modelservice.training.epoch.duration";

    /// <summary>Spans for training jobs; requests get theirs from the ASP.NET Core instrumentation.</summary>
    public static readonly ActivitySource Training = new(ActivitySourceName);

    private readonly Counter<long> _predictedRows;
    private readonly Histogram<double> _epochDuration;

    public ServiceMetrics(IMeterFactory meters, ModelRegistry models, IJobStore jobs)
    {
        var meter = meters.Create(MeterName);
        _predictedRows = meter.CreateCounter<long>("modelservice.predicted_rows", description: "Rows scored, by API (v1, v2 or grpc).");
        _epochDuration = meter.CreateHistogram<double>(EpochDurationName, unit: "s", description: "Wall time of one training epoch.");
        meter.CreateObservableGauge("modelservice.active_model.info", () => ActiveModel(models),
            description: "1 for the model predictions use, labelled with its id.");
        meter.CreateObservableGauge("modelservice.training.jobs", () => JobsByState(jobs), description: "Training jobs by state.");
        meter.CreateObservableGauge("modelservice.training.queue.depth", () => QueueDepth(jobs),
            description: "Training jobs waiting for a worker.");
    }

    public void RecordPredictedRows(int rows, string api) => _predictedRows.Add(rows, new KeyValuePair<string, object?>("api", api));

    public void RecordEpoch(TimeSpan duration) => _epochDuration.Record(duration.TotalSeconds);

    private static IEnumerable<Measurement<int>> ActiveModel(ModelRegistry models) =>
        models.Active is { } active ? [new Measurement<int>(1, new KeyValuePair<string, object?>("model_id", active.Manifest.Id))] : [];

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
