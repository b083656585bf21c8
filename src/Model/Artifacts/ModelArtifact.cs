namespace ModelService.Model.Artifacts;

/// <summary>Reads and writes a model folder: manifest.json plus weights.bin (the tensors listed in the manifest, in
/// order, as raw little-endian float32 values in row-major order, nothing else).</summary>
public static class ModelArtifact
{
    /// <summary>Manifest file name.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>Weights file name.</summary>
    public const string WeightsFileName = "weights.bin";

    /// <summary>The JSON settings of manifest.json (camelCase, enums as wire names, indented).</summary>
    public static System.Text.Json.JsonSerializerOptions ManifestJsonOptions => throw new NotImplementedException();

    /// <summary>Writes <paramref name="model"/> to the folder <paramref name="directory"/>, which must not exist. The files
    /// are written and flushed in a temporary sibling folder that is then renamed, so a partial model is never visible.</summary>
    /// <exception cref="IOException"><paramref name="directory"/> already exists or cannot be written.</exception>
    public static void Save(TrainedModel model, string directory) => throw new NotImplementedException();

    /// <summary>Reads a model folder, verifying the weights' SHA-256 and every tensor's shape.</summary>
    /// <exception cref="InvalidModelArtifactException">A file is missing, corrupt or inconsistent.</exception>
    public static TrainedModel Load(string directory) => throw new NotImplementedException();

    /// <summary>A copy of <paramref name="model"/> with another id and tags (weights shared).</summary>
    public static TrainedModel WithId(TrainedModel model, string id, IReadOnlyDictionary<string, string>? tags) =>
        throw new NotImplementedException();
}
