using System.Diagnostics.Metrics;

namespace ModelService.Api.Predictions;

/// <summary>Rows scored, by API (v1, v2 or grpc): modelservice_predicted_rows_total on /metrics.</summary>
internal sealed class PredictionMetrics
{
    public const string MeterName = "ModelService.Predictions";

    private readonly Counter<long> _predictedRows;

    public PredictionMetrics(IMeterFactory meters) =>
        _predictedRows = meters.Create(MeterName)
            .CreateCounter<long>("modelservice.predicted_rows", description: "Rows scored, by API (v1, v2 or grpc).");

    public void RecordPredictedRows(int rows, string api) => _predictedRows.Add(rows, new KeyValuePair<string, object?>("api", api));
}
