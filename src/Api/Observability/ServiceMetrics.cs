using System.Diagnostics;
using System.Diagnostics.Metrics;
using ModelService.Api.Models;
using ModelService.Api.Training;

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

    public ServiceMetrics(IMeterFactory meters, ModelRegistry models, JobStore jobs, TrainingQueue queue)
    {
        var meter = meters.Create(MeterName);
        _predictedRows = meter.CreateCounter<long>("modelservice.predicted_rows", description: "Rows scored, by API (v1, v2 or grpc).");
        _epochDuration = meter.CreateHistogram<double>(EpochDurationName, unit: "s", description: "Wall time of one training epoch.");
        meter.CreateObservableGauge("modelservice.active_model.info", () => ActiveModel(models),
            description: "1 for the model predictions use, labelled with its id.");
        meter.CreateObservableGauge("modelservice.training.jobs", () => JobsByState(jobs), description: "Training jobs by state.");
        meter.CreateObservableGauge("modelservice.training.queue.depth", () => queue.Depth,
            description: "Training jobs waiting for the worker.");
    }

    public void RecordPredictedRows(int rows, string api) => _predictedRows.Add(rows, new KeyValuePair<string, object?>("api", api));

    public void RecordEpoch(TimeSpan duration) => _epochDuration.Record(duration.TotalSeconds);

    private static IEnumerable<Measurement<int>> ActiveModel(ModelRegistry models) =>
        models.Active is { } active ? [new Measurement<int>(1, new KeyValuePair<string, object?>("model_id", active.Manifest.Id))] : [];

    private static IEnumerable<Measurement<long>> JobsByState(JobStore jobs)
    {
        var counts = jobs.CountByStatus();
        return JobStatus.All.Select(state => new Measurement<long>(counts.GetValueOrDefault(state),
            new KeyValuePair<string, object?>("state", state)));
    }
}
