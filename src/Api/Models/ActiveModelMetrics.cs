using System.Diagnostics.Metrics;

namespace ModelService.Api.Models;

/// <summary>modelservice_active_model_info on /metrics: 1 for the model predictions use, labelled with its id.</summary>
internal sealed class ActiveModelMetrics
{
    public const string MeterName = "ModelService.Models";

    public ActiveModelMetrics(IMeterFactory meters, ModelRegistry models) =>
        meters.Create(MeterName).CreateObservableGauge("modelservice.active_model.info", () => ActiveModel(models),
            description: "1 for the model predictions use, labelled with its id.");

    private static IEnumerable<Measurement<int>> ActiveModel(ModelRegistry models) =>
        models.Active is { } active ? [new Measurement<int>(1, new KeyValuePair<string, object?>("model_id", active.Manifest.Id))] : [];
}
