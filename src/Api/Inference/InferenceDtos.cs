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

/// <summary><c>GET /v2/health/live</c>, as KServe's own servers answer it.</summary>
internal sealed record ServerLive(bool Live);

/// <summary><c>GET /v2/health/ready</c> and the model ready routes (<see cref="Name"/> only on those).</summary>
internal sealed record ReadyStatus(bool Ready, string? Name = null);

/// <summary>Inference response: one output tensor of shape [N, 1].</summary>
internal sealed record InferResponse(string ModelName, string ModelVersion, string? Id, IReadOnlyList<OutputTensor> Outputs);

/// <summary>An output tensor with its values in <see cref="Data"/>, or in the binary part of the body after the JSON
/// (then <see cref="Parameters"/> holds their byte count).</summary>
internal sealed record OutputTensor(string Name, IReadOnlyList<long> Shape, string Datatype, IReadOnlyList<double>? Data,
    OutputParameters? Parameters = null);

internal sealed record OutputParameters(long BinaryDataSize);

/// <summary>The protocol's error body, sent with a 4xx status.</summary>
internal sealed record InferError(string Error);

/// <summary>The protocol names fields in snake_case (<c>model_name</c>) and leaves out optional ones it does not have.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServerMetadata))]
[JsonSerializable(typeof(ModelMetadata))]
[JsonSerializable(typeof(ServerLive))]
[JsonSerializable(typeof(ReadyStatus))]
[JsonSerializable(typeof(InferResponse))]
[JsonSerializable(typeof(InferError))]
[JsonSerializable(typeof(ModelConfig))]
[JsonSerializable(typeof(ModelStatistics))]
[JsonSerializable(typeof(IReadOnlyList<RepositoryEntry>))]
internal sealed partial class InferenceJsonContext : JsonSerializerContext
{
    /// <summary>The content type of every JSON answer under /v2: clients compare it to exactly this (no charset).</summary>
    public const string ContentType = "application/json";

    /// <summary>As <see cref="Default"/>, but error messages keep their quotes readable ('x' rather than \u0027x\u0027).</summary>
    public static InferenceJsonContext Readable { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
