using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ModelService.Api.Auth;
using ModelService.Api.Errors;
using ModelService.Api.Limits;
using ModelService.Api.OpenApi;
using ModelService.Api.Storage;
using ModelService.Api.Models;
using ModelService.Model.Artifacts;
using ModelService.Model.Inference;

namespace ModelService.Api.Predictions;

internal static class PredictionEndpoints
{
    public static RouteGroupBuilder MapPredictions(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/predictions").WithTags("Predictions");

        group.MapPost("/", Predict).WithName("Predict")
            .WithSummary("Score rows with the active model (or modelId)")
            .WithDescription("Either \"records\" (objects of named raw values) or \"instances\" (arrays of raw values in the model's "
                + "feature order). Numeric features take JSON numbers only; categorical ones take strings. A missing or null value "
                + "is imputed as in training; a category not seen in training is encoded as all zeros. An unknown field, a string "
                + "for a numeric feature or an instance of the wrong width is 400 naming it. An unknown modelId is 404. At most "
                + "Predictions:MaxRows rows per request (413 beyond). Predictions are in the target's units. A tensor model takes "
                + "\"instances\" only, samples nested [N, H, W, C] (null for a missing value), and answers a number per sample, "
                + "or an [H, W] array per sample for a per-position model (which takes any H and W).")
            .Accepts<PredictionRequest>("application/json")
            .WithRequestExample("application/json", "records", "Table rows by feature name", """
                {"records": [{"square_footage": 0.5, "rooms": 0.5}, {"square_footage": 0.9, "rooms": 0.2}]}
                """)
            .WithRequestExample("application/json", "tensor", "Two [2, 2, 1] samples for a tensor model (modelId: one trained on a tensor dataset)", """
                {"modelId": "mdl_XXXXXXXXXXXX", "instances": [[[[0.1], [0.2]], [[0.3], [null]]], [[[0.5], [0.6]], [[0.7], [0.8]]]]}
                """)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAuthorization(ApiPolicies.Read)
            .RequireRateLimiting(RateLimitingSetup.PredictionsPolicy);

        return group;
    }

    private static async Task<Results<PredictionsResult, ValidationProblem, ProblemHttpResult>> Predict(
        HttpRequest request, ModelRegistry registry, IOptions<PredictionOptions> options, ParallelScoring work,
        PredictionMetrics metrics, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !(mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || mediaType.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return TypedResults.Problem($"Send application/json; got '{request.ContentType ?? "no content type"}'.",
                statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");
        }
        using var body = await RequestBody.ReadAsync(request, cancellationToken);
        var envelope = PredictionRequestReader.ReadEnvelope(body.Span,
            SlicedScoring.SliceCount(body.Length, options.Value.ParallelMinBytes, work));
        Predictor? model;
        if (envelope.ModelId is null)
        {
            // Read once: a concurrent activation does not change the model this request uses.
            model = registry.Active;
            if (model is null)
            {
                return TypedResults.Problem("No model is loaded yet.", statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Service unavailable");
            }
        }
        else
        {
            if (!Ids.IsModelId(envelope.ModelId))
            {
                return Problems.Invalid("modelId", $"'{envelope.ModelId}' is not a model id.");
            }
            try
            {
                model = registry.GetPredictor(envelope.ModelId);
            }
            catch (InvalidModelArtifactException e)
            {
                return Problems.Conflict($"Model '{envelope.ModelId}' cannot be used: its artifact is invalid ({e.Message}).");
            }
            if (model is null)
            {
                return Problems.NotFound("modelId", $"No model with id '{envelope.ModelId}'.");
            }
        }
        if (model.TakesTensors)
        {
            // Tensor samples are read whole; an envelope read for slicing is read again the ordinary way.
            return TensorPredictions.Predict(body.Span, envelope.Split is null ? envelope : PredictionRequestReader.ReadEnvelope(body.Span),
                model, options.Value.MaxRows, metrics, work);
        }
        if (envelope.Split is not null)
        {
            if (SlicedScoring.TryScore(body.Memory, envelope, model, options.Value.MaxRows, work) is { } sliced)
            {
                metrics.RecordPredictedRows(sliced.RowCount, "v1");
                return sliced;
            }
            // Some slice failed: read the request sequentially, which reports the first error as it stands in the body.
            envelope = PredictionRequestReader.ReadEnvelope(body.Span);
        }
        using var rows = PredictionRequestReader.ReadRows(body.Span, envelope, model, options.Value.MaxRows);
        var predictions = ArrayPool<double>.Shared.Rent(rows.RowCount);
        try
        {
            work.Predict(model, rows.Memory, rows.RowCount, predictions);
        }
        catch (ArgumentException e)
        {
            ArrayPool<double>.Shared.Return(predictions);
            return Problems.Invalid(envelope.Form, e.Message);
        }
        metrics.RecordPredictedRows(rows.RowCount, "v1");
        return new PredictionsResult(model.Manifest.Id, predictions, rows.RowCount);
    }
}
