using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ModelService.Api.Infrastructure;
using ModelService.Api.Models;
using ModelService.Api.Observability;
using ModelService.Api.Predictions;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Inference;

namespace ModelService.Api.Inference;

/// <summary>The Open Inference Protocol (KServe v2) over REST. The service serves one model name
/// (Inference:ModelName); its versions are model ids, and the unversioned routes use the active model.</summary>
internal static class InferenceEndpoints
{
    private const string Platform = "modelservice_conv1x1_mlp";

    private const string InferExample = """
        {"id": "42", "inputs": [{"name": "input0", "shape": [2, 2], "datatype": "FP32", "data": [0.5, 0.5, 0.9, 0.2]}],
         "outputs": [{"name": "output0"}]}
        """;

    /// <summary>Where the protocol's routes live; errors under it use the protocol's body.</summary>
    public const string Prefix = "/v2";

    public static RouteGroupBuilder MapInference(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Prefix).WithTags("Open Inference Protocol (v2)").RequireAuthorization(ApiPolicies.Read);

        group.MapGet("/", Server).WithName("OipServerMetadata").WithSummary("Server metadata")
            .WithDescription("{name, version, extensions}: the server name is Inference:ModelName, the version the service's.");
        group.MapGet("/health/live", () => TypedResults.Ok()).WithName("OipServerLive").WithSummary("Server live (200)")
            .WithDescription("200 while the process can answer requests; the body is empty.");
        group.MapGet("/health/ready", (ModelRegistry registry) => registry.Active is null
            ? Results.StatusCode(StatusCodes.Status400BadRequest) : Results.Ok())
            .WithName("OipServerReady").WithSummary("Server ready")
            .WithDescription("200 once a model is loaded and inference can be served, else 400 (the protocol's 4xx for false); the body is empty.");

        group.MapGet("/models/{name}", (string name, [AsParameters] Ctx ctx) => Metadata(name, null, ctx)).WithName("OipModelMetadata")
            .WithSummary("Metadata of the active model")
            .WithDescription("{name, versions, platform, inputs, outputs}: input0 FP32 [-1, F] (BYTES for a model with categorical "
                + "features), output0 FP64 [-1, 1]; versions lists every valid model id. 404 {\"error\"} for another name.");
        group.MapGet("/models/{name}/versions/{version}", (string name, string version, [AsParameters] Ctx ctx) => Metadata(name, version, ctx))
            .WithName("OipModelVersionMetadata").WithSummary("Metadata of one model version (a model id)")
            .WithDescription("As the model metadata, for the model whose id is {version}; 404 {\"error\"} for an unknown one.");
        group.MapGet("/models/{name}/ready", (string name, [AsParameters] Ctx ctx) => Ready(name, null, ctx)).WithName("OipModelReady")
            .WithSummary("Model ready")
            .WithDescription("200 when the active model can serve; 404 {\"error\"} for another model name.");
        group.MapGet("/models/{name}/versions/{version}/ready", (string name, string version, [AsParameters] Ctx ctx) => Ready(name, version, ctx))
            .WithName("OipModelVersionReady").WithSummary("Model version ready")
            .WithDescription("200 when the model whose id is {version} can serve; 404 {\"error\"} otherwise.");

        group.MapPost("/models/{name}/infer", (string name, HttpRequest request, [AsParameters] Ctx ctx, CancellationToken ct) =>
                Infer(name, null, request, ctx, ct))
            .WithName("OipInfer").WithSummary("Infer with the active model")
            .WithDescription("One input tensor 'input0' of shape [N, F] (FP32 or FP64, row-major, raw feature values in the model's "
                + "feature order; BYTES strings for a model with categorical features); answers 'output0' FP64 [N, 1] in the "
                + "target's units. Errors are {\"error\": \"...\"} with a 4xx.")
            .Accepts<byte[]>("application/json").WithRequestExample("application/json", InferExample)
            .RequireRateLimiting(RateLimitingSetup.PredictionsPolicy);
        group.MapPost("/models/{name}/versions/{version}/infer", (string name, string version, HttpRequest request, [AsParameters] Ctx ctx,
                CancellationToken ct) => Infer(name, version, request, ctx, ct))
            .WithName("OipInferVersion").WithSummary("Infer with one model version (a model id)")
            .WithDescription("As infer with the active model, scored by the model whose id is {version}.")
            .Accepts<byte[]>("application/json").WithRequestExample("application/json", InferExample)
            .RequireRateLimiting(RateLimitingSetup.PredictionsPolicy);

        return group;
    }

    /// <summary>What every model route needs, injected as one parameter.</summary>
    internal sealed record Ctx(
        ModelRegistry Registry, IOptions<InferenceOptions> Options, IOptions<PredictionOptions> Predictions, ServiceMetrics Metrics);

    private static JsonHttpResult<ServerMetadata> Server(IOptions<InferenceOptions> options)
    {
        var version = typeof(InferenceEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? "unknown";
        return TypedResults.Json(new ServerMetadata(options.Value.ModelName, version.Split('+')[0], []),
            InferenceJsonContext.Readable.ServerMetadata);
    }

    private static Results<JsonHttpResult<ModelMetadata>, JsonHttpResult<InferError>> Metadata(string name, string? version, Ctx ctx)
    {
        if (Resolve(name, version, ctx) is not { } model)
        {
            return Error(Unknown(name, version, ctx), StatusCodes.Status404NotFound);
        }
        var manifest = model.Manifest;
        var datatype = manifest.Features.Any(f => f.Type == ColumnType.Categorical) ? "BYTES" : "FP32";
        var versions = ctx.Registry.List().Where(e => e.IsValid).Select(e => e.Id).ToList();
        return TypedResults.Json(new ModelMetadata(ctx.Options.Value.ModelName, versions, Platform,
                [new TensorMetadata(InferRequestReader.InputName, datatype, [-1, manifest.Features.Count])],
                [new TensorMetadata(InferRequestReader.OutputName, "FP64", [-1, 1])]),
            InferenceJsonContext.Readable.ModelMetadata);
    }

    private static Results<Ok, JsonHttpResult<InferError>> Ready(string name, string? version, Ctx ctx) =>
        Resolve(name, version, ctx) is null ? Error(Unknown(name, version, ctx), StatusCodes.Status404NotFound) : TypedResults.Ok();

    private static async Task<Results<JsonHttpResult<InferResponse>, JsonHttpResult<InferError>>> Infer(
        string name, string? version, HttpRequest request, [AsParameters] Ctx ctx, CancellationToken cancellationToken)
    {
        if (Resolve(name, version, ctx) is not { } model)
        {
            return Error(Unknown(name, version, ctx), StatusCodes.Status404NotFound);
        }
        InferInput input;
        try
        {
            using var body = await RequestBody.ReadAsync(request, cancellationToken);
            input = InferRequestReader.Read(body.Memory, model.Manifest, ctx.Predictions.Value.MaxRows);
        }
        catch (InferException e)
        {
            return Error(e.Message, e.StatusCode);
        }
        catch (ApiProblemException e)
        {
            return Error(e.Message, e.StatusCode);
        }
        var predictions = new double[input.RowCount];
        try
        {
            model.Predict(input.Values, input.RowCount, predictions);
        }
        catch (ArgumentException e)
        {
            return Error(e.Message, StatusCodes.Status400BadRequest);
        }
        // An FP64 tensor has no null; v1 answers null for such a row, v2 refuses the request and names the row.
        if (Array.FindIndex(predictions, p => !double.IsFinite(p)) is var row and >= 0)
        {
            return Error($"The prediction for row {row} is not a finite number (an input far outside the training data "
                + "overflows the network).", StatusCodes.Status422UnprocessableEntity);
        }
        ctx.Metrics.RecordPredictedRows(input.RowCount, "v2");
        return TypedResults.Json(new InferResponse(ctx.Options.Value.ModelName, model.Manifest.Id, input.Id,
                [new OutputTensor(InferRequestReader.OutputName, [input.RowCount, 1], "FP64", predictions)]),
            InferenceJsonContext.Readable.InferResponse);
    }

    /// <summary>The active model, or the version named; null when the name or version is unknown or unusable.</summary>
    private static Predictor? Resolve(string name, string? version, Ctx ctx)
    {
        if (!string.Equals(name, ctx.Options.Value.ModelName, StringComparison.Ordinal))
        {
            return null;
        }
        if (version is null)
        {
            return ctx.Registry.Active;
        }
        if (!Ids.IsModelId(version))
        {
            return null;
        }
        try
        {
            return ctx.Registry.GetPredictor(version);
        }
        catch (InvalidModelArtifactException)
        {
            return null;
        }
    }

    private static string Unknown(string name, string? version, Ctx ctx) =>
        !string.Equals(name, ctx.Options.Value.ModelName, StringComparison.Ordinal)
            ? $"Unknown model '{name}'; this server serves '{ctx.Options.Value.ModelName}'."
            : version is null ? "No model is loaded yet." : $"Model '{name}' has no usable version '{version}'.";

    private static JsonHttpResult<InferError> Error(string message, int statusCode) =>
        TypedResults.Json(new InferError(message), InferenceJsonContext.Readable.InferError, statusCode: statusCode);
}
