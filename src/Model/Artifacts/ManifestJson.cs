using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ModelService.Model.Artifacts;

/// <summary>Source-generated JSON metadata for manifest.json.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    UseStringEnumConverter = true,
    RespectNullableAnnotations = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class ManifestJson : JsonSerializerContext;

/// <summary>The settings manifest.json is read and written with.</summary>
internal static class ManifestJsonFile
{
    // The manifest is a file for people as much as for programs: keep '+', quotes and non-ASCII text unescaped.
    public static JsonSerializerOptions Options { get; } =
        new(ManifestJson.Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonTypeInfo<ModelManifest> Manifest { get; } = (JsonTypeInfo<ModelManifest>)Options.GetTypeInfo(typeof(ModelManifest));
}
