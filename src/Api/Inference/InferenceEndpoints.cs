using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using ModelService.Api.Auth;
using ModelService.Api.Errors;
using ModelService.Api.Limits;
using ModelService.Api.OpenApi;
using ModelService.Model.Inference;

namespace ModelService.Api.Inference;

/// <summary>The Open Inference Protocol (KServe v2) over REST, with Triton's binary tensor data extension. The service
/// serves one model name (Inference:ModelName); its versions are model ids, and the unversioned routes use the active
/// model. Every JSON answer is application/json, errors <c>{"error": "..."}</c>.</summary>
internal static class InferenceEndpoints
{
    private const string InferExample = """
        {"id": "42", "inputs": [{"name": "input0", "shape": [2, 2], "datatype": "FP32", "data": [0.5, 0.5, 0.9, 0.2]}],
         "outputs": [{"name": "output0"}]}
        """;

    private const string BinaryExample = "(binary tensor data: the JSON request, its input with \"parameters\": {\"binary_data_size\": 8N} "
        + "instead of \"data\", then 2N little-endian FP32 values; Inference-Header-Content-Length gives the JSON's byte count)";

    /// <summary>Where the protocol's routes live; errors under it use the protocol's body.</summary>
    public const string Prefix = "/v2";

    public static RouteGroupBuilder MapInferenceRest(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Prefix).WithTags("Open Inference Protocol (v2)").RequireAuthorization(ApiPolicies.Read);

        group.MapGet("/", (InferenceServer server) => Json(server.Server(), InferenceJsonContext.Readable.ServerMetadata))
            .WithName("OipServerMetadata").WithSummary("Server metadata")
            .WithDescription("{name, version, extensions}: the server name is Inference:ModelName, the version the service's; "
                + "extensions lists binary_tensor_data, model_configuration, statistics and model_repository.");
        group.MapGet("/health/live", () => Json(new ServerLive(true), InferenceJsonContext.Readable.ServerLive))
            .WithName("OipServerLive").WithSummary("Server live: 200 {\"live\": true}")
            .WithDescription("200 {\"live\": true} while the process can answer requests.");
        group.MapGet("/health/ready", (InferenceServer server) => Json(new ReadyStatus(server.IsReady), InferenceJsonContext.Readable.ReadyStatus,
                server.IsReady ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest))
            .WithName("OipServerReady").WithSummary("Server ready: 200 {\"ready\": true}")
            .WithDescription("200 {\"ready\": true} once a model is loaded and inference can be served, else 400 {\"ready\": false} "
                + "(the protocol's 4xx for false).");

        group.MapGet("/models/{name}", (string name, InferenceServer server) => Metadata(name, null, server)).WithName("OipModelMetadata")
            .WithSummary("Metadata of the active model")
            .WithDescription("{name, versions, platform, inputs, outputs}: input0 FP32 [-1, F] (BYTES for a model with categorical "
                + "features), output0 FP64 [-1, 1]; versions lists every valid model id. 404 {\"error\"} for another name.");
        group.MapGet("/models/{name}/versions/{version}", (string name, string version, InferenceServer server) => Metadata(name, version, server))
            .WithName("OipModelVersionMetadata").WithSummary("Metadata of one model version (a model id)")
            .WithDescription("As the model metadata, for the model whose id is {version}; 404 {\"error\"} for an unknown one.");
        group.MapGet("/models/{name}/ready", (string name, InferenceServer server) => Ready(name, null, server)).WithName("OipModelReady")
            .WithSummary("Model ready: 200 {\"name\", \"ready\": true}")
            .WithDescription("200 when the active model can serve; 404 {\"error\"} for another model name.");
        group.MapGet("/models/{name}/versions/{version}/ready", (string name, string version, InferenceServer server) => Ready(name, version, server))
            .WithName("OipModelVersionReady").WithSummary("Model version ready")
            .WithDescription("200 when the model whose id is {version} can serve; 404 {\"error\"} otherwise.");

        const string InferDescription = "One input tensor 'input0' of shape [N, F] (FP32 or FP64, row-major, raw feature values in "
            + "the model's feature order; BYTES strings for a model with categorical features); answers 'output0' FP64 [N, 1] in the "
            + "target's units. A tensor model takes FP32 or FP64 [N, H, W, C] (channels last; any H and W for a per-position model) "
            + "and answers [N, 1], or [N, H, W] per position; the model metadata gives the shapes (-1 where any size goes). "
            + "'model_name' and 'model_version' in the body, when present, must match the route. With the binary "
            + "tensor data extension the body is the JSON header (Inference-Header-Content-Length bytes) followed by the input's "
            + "raw little-endian bytes (parameters.binary_data_size); parameters.binary_data_output or the output's "
            + "parameters.binary_data asks for the output the same way. Content-Encoding gzip or deflate is accepted; the "
            + "decompressed body counts against Limits:MaxRequestBodyBytes. Errors are {\"error\": \"...\"} with a 4xx.";
        group.MapPost("/models/{name}/infer", (string name, HttpRequest request, InferenceServer server, CancellationToken ct) =>
                Infer(name, null, request, server, ct))
            .WithName("OipInfer").WithSummary("Infer with the active model").WithDescription(InferDescription)
            .Accepts<byte[]>("application/json", InferHttpResult.BinaryContentType).WithRequestExample("application/json", InferExample)
            .WithRequestExample(InferHttpResult.BinaryContentType, BinaryExample)
            .RequireRateLimiting(RateLimitingSetup.PredictionsPolicy);
        group.MapPost("/models/{name}/versions/{version}/infer", (string name, string version, HttpRequest request, InferenceServer server,
                CancellationToken ct) => Infer(name, version, request, server, ct))
            .WithName("OipInferVersion").WithSummary("Infer with one model version (a model id)")
            .WithDescription("As infer with the active model, scored by the model whose id is {version}.")
            .Accepts<byte[]>("application/json", InferHttpResult.BinaryContentType).WithRequestExample("application/json", InferExample)
            .WithRequestExample(InferHttpResult.BinaryContentType, BinaryExample)
            .RequireRateLimiting(RateLimitingSetup.PredictionsPolicy);

        group.MapInferenceRepository();
        return group;
    }

    private static Results<JsonHttpResult<ModelMetadata>, JsonHttpResult<InferError>> Metadata(string name, string? version, InferenceServer server) =>
        server.Resolve(name, version) is { } model
            ? Json(server.Metadata(model), InferenceJsonContext.Readable.ModelMetadata)
            : Error(server.Unknown(name, version), StatusCodes.Status404NotFound);

    private static Results<JsonHttpResult<ReadyStatus>, JsonHttpResult<InferError>> Ready(string name, string? version, InferenceServer server) =>
        server.Resolve(name, version) is null
            ? Error(server.Unknown(name, version), StatusCodes.Status404NotFound)
            : Json(new ReadyStatus(true, name), InferenceJsonContext.Readable.ReadyStatus);

    private static async Task<Results<InferHttpResult, JsonHttpResult<InferError>>> Infer(
        string name, string? version, HttpRequest request, InferenceServer server, CancellationToken cancellationToken)
    {
        if (server.Resolve(name, version) is not { } model)
        {
            return Error(server.Unknown(name, version), StatusCodes.Status404NotFound);
        }
        var timer = InferenceStatistics.Start();
        try
        {
            int? headerLength = null;
            if (request.Headers.TryGetValue(InferHttpResult.HeaderLengthHeader, out var header))
            {
                headerLength = int.TryParse(header.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var length) ? length
                    : throw InferErrors.Bad($"{InferHttpResult.HeaderLengthHeader} must be a non-negative integer; got '{header}'.");
            }
            using var body = await RequestBody.ReadAsync(request, cancellationToken);
            using var input = InferRequestReader.Read(body.Memory, headerLength, model.Manifest, server.MaxRows);
            InferenceServer.CheckNames(input.ModelName, input.ModelVersion, name, model);
            timer.MarkInput();
            var predictions = server.Score(model, input.Input, "v2");
            timer.MarkInfer();
            var result = InferHttpResult.Encode(server.ModelName, model.Manifest.Id, input.Id, predictions, input.Input.OutputCount,
                input.Input.OutputShape, input.BinaryOutput);
            server.Statistics.RecordSuccess(model.Manifest.Id, input.Input.RowCount, timer);
            return result;
        }
        catch
        {
            // The error itself leaves through the service's one error path (ApiExceptionHandler, then InferErrorWriter).
            server.Statistics.RecordFailure(model.Manifest.Id, timer);
            throw;
        }
    }

    internal static JsonHttpResult<T> Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, int statusCode = 200) =>
        TypedResults.Json(value, type, InferenceJsonContext.ContentType, statusCode);

    internal static JsonHttpResult<InferError> Error(string message, int statusCode) =>
        Json(new InferError(message), InferenceJsonContext.Readable.InferError, statusCode);
}
