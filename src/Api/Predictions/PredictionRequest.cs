using System.Text.Json;

namespace ModelService.Api.Predictions;

/// <summary>The prediction body as documented; the endpoint reads it with a streaming parser, not through this type.</summary>
/// <param name="Records">Rows of named raw feature values (categorical values as strings, numeric ones as JSON numbers,
/// missing or null imputed).</param>
/// <param name="Instances">Rows of raw values in the model's feature order; for a tensor model, samples nested [N, H, W, C]
/// (null for a missing value).</param>
/// <param name="ModelId">The model to use; the active model when left out.</param>
internal sealed record PredictionRequest(
    IReadOnlyList<IReadOnlyDictionary<string, JsonElement>>? Records,
    IReadOnlyList<IReadOnlyList<JsonElement>>? Instances,
    string? ModelId);

/// <param name="ModelId">The model that produced the predictions.</param>
/// <param name="Predictions">One prediction per input row, in the target's units; for a per-position tensor model, an
/// [H, W] array of predictions per sample.</param>
internal sealed record PredictionResponse(string ModelId, IReadOnlyList<double> Predictions);
