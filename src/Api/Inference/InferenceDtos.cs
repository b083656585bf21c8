using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelService.Api.Inference;

/// <summary>Server metadata: <c>GET /v2</c>.</summary>
internal sealed record ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

/// <summary>Model metadata: <c>GET /v2/models/{name}[/versions/{version}]</c>.</summary>
internal sealed record ModelMetadata(
    string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs);

internal sealed record TensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape);

/// <summary>Inference response: one output tensor of shape [N, 1].</summary>
internal sealed record InferResponse(string ModelName, string ModelVersion, string? Id, IReadOnlyList<OutputTensor> Outputs);

internal sealed record OutputTensor(string Name, IReadOnlyList<long> Shape, string Datatype, IReadOnlyList<double> Data);

/// <summary>The protocol's error body, sent with a 4xx status.</summary>
internal sealed record InferError(string Error);

/// <summary>The protocol names fields in snake_case (<c>model_name</c>) and leaves out optional ones it does not have.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServerMetadata))]
[JsonSerializable(typeof(ModelMetadata))]
[JsonSerializable(typeof(InferResponse))]
[JsonSerializable(typeof(InferError))]
internal sealed partial class InferenceJsonContext : JsonSerializerContext
{
    /// <summary>As <see cref="Default"/>, but error messages keep their quotes readable ('x' rather than \u0027x\u0027).</summary>
    public static InferenceJsonContext Readable { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
