using System.Text.Json;

namespace ModelService.Model.Artifacts;

/// <summary>Reads and writes a model folder: manifest.json plus weights.bin (the tensors listed in the manifest, in
/// order, as raw little-endian float32 values in row-major order, nothing else).</summary>
public static class ModelArtifact
{
    /// <summary>Manifest file name.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>Weights file name.</summary>
    public const string WeightsFileName = "weights.bin";

    /// <summary>Writes <paramref name="model"/> to the folder <paramref name="directory"/>, which must not exist. The files
    /// are written and flushed in a temporary sibling folder that is then renamed, so a partial model is never visible.</summary>
    /// <exception cref="IOException"><paramref name="directory"/> already exists or cannot be written.</exception>
    public static void Save(TrainedModel model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var target = Path.GetFullPath(directory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        if (Directory.Exists(target) || File.Exists(target))
        {
            throw new IOException($"Cannot save the model to '{target}': it already exists.");
        }
        var parent = Path.GetDirectoryName(target) ?? throw new IOException($"'{target}' has no parent folder.");
        Directory.CreateDirectory(parent);
        var temporary = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            var files = Serialize(model);
            WriteDurably(Path.Combine(temporary, WeightsFileName), files.Weights);
            WriteDurably(Path.Combine(temporary, ManifestFileName), files.Manifest);
            Directory.Move(temporary, target);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>The bytes of manifest.json and weights.bin for <paramref name="model"/>, the manifest recording the
    /// weights' SHA-256.</summary>
    public static ModelFiles Serialize(TrainedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var weights = WeightsFile.Serialize(model.Weights);
        var manifest = model.Manifest with { WeightsSha256 = WeightsFile.Sha256(weights) };
        return new ModelFiles(JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJsonFile.Manifest), weights);
    }

        /// <summary>Reads a model folder, verifying the weights' SHA-256 and every tensor's shape. Messages name the files,
    /// never the folder, so that they can be shown to whoever sent the model.</summary>
    /// <exception cref="InvalidModelArtifactException">A file is missing, corrupt or inconsistent.</exception>
    public static TrainedModel Load(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var folder = Path.GetFullPath(directory);
        if (!Directory.Exists(folder))
        {
            throw new InvalidModelArtifactException("The model folder does not exist.");
        }
        var manifestPath = Path.Combine(folder, ManifestFileName);
        var weightsPath = Path.Combine(folder, WeightsFileName);
        foreach (var path in (string[])[manifestPath, weightsPath])
        {
            if (!File.Exists(path))
            {
                throw new InvalidModelArtifactException($"The model folder has no {Path.GetFileName(path)}.");
            }
        }
        return Load(new ModelFiles(File.ReadAllBytes(manifestPath), File.ReadAllBytes(weightsPath)), $"model folder '{Path.GetFileName(folder)}'");
    }

    /// <summary>Reads a model from the bytes of its two files, verifying the weights' SHA-256 and every tensor's shape;
    /// <paramref name="source"/> names where they came from in error messages.</summary>
    /// <exception cref="InvalidModelArtifactException">A file is corrupt or inconsistent.</exception>
    public static TrainedModel Load(ModelFiles files, string source)
    {
        ArgumentNullException.ThrowIfNull(files);
        var manifest = ReadManifest(files.Manifest, source);
        var sha = WeightsFile.Sha256(files.Weights);
        if (!string.Equals(sha, manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidModelArtifactException(
                $"{WeightsFileName} in {source} does not match its manifest (SHA-256 {sha}, manifest records {manifest.WeightsSha256}): "
                + "the file is corrupt or belongs to another model.");
        }
        try
        {
            return new TrainedModel(manifest, WeightsFile.Deserialize(files.Weights, manifest.Tensors));
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException)
        {
            throw new InvalidModelArtifactException($"The model in {source} is inconsistent: {e.Message}", e);
        }
    }

    /// <summary>Parses manifest.json alone (the weights are neither read nor verified).</summary>
    /// <exception cref="InvalidModelArtifactException">The manifest is not valid or has another format version.</exception>
    public static ModelManifest ReadManifest(ReadOnlySpan<byte> manifestJson, string source = "the model")
    {
        ModelManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(manifestJson, ManifestJsonFile.Manifest)
                ?? throw new InvalidModelArtifactException($"{ManifestFileName} in {source} is empty.");
        }
        catch (JsonException e)
        {
            // The serializer's own message names .NET types; whoever sent the file needs the place.
            throw new InvalidModelArtifactException(e.Path is { } path
                ? $"{ManifestFileName} in {source} is not a valid model manifest at '{path}' (line {e.LineNumber + 1}): the value is "
                    + "missing, null, malformed or of the wrong type."
                : $"{ManifestFileName} in {source} is not a valid model manifest: {e.Message}", e);
        }
        if (manifest.FormatVersion != ModelManifest.CurrentFormatVersion)
        {
            throw new InvalidModelArtifactException(
                $"The model in {source} has format version '{manifest.FormatVersion}'; this library reads '{ModelManifest.CurrentFormatVersion}'.");
        }
        // Nullable annotations cover members; the elements of lists need a look of their own.
        if (manifest.Features.Any(f => f is null) || manifest.Tensors.Any(t => t is null || t.Shape is null)
            || manifest.Network.HiddenChannels is null || manifest.Training.History.Any(h => h is null)
            || manifest.Metrics.Train is null || (manifest.Tags?.Values.Any(v => v is null) ?? false)
            || manifest.LibraryVersions.Values.Any(v => v is null))
        {
            throw new InvalidModelArtifactException(
                $"{ManifestFileName} in {source} is not a valid model manifest: a list or map holds null where the format needs a value.");
        }
        return manifest;
    }

    /// <summary>A copy of <paramref name="model"/> with another id and tags (weights shared).</summary>
    public static TrainedModel WithId(TrainedModel model, string id, IReadOnlyDictionary<string, string>? tags)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return new TrainedModel(model.Manifest with { Id = id, Tags = tags }, model.Weights);
    }

    private static void WriteDurably(string path, byte[] contents)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Write(contents);
        stream.Flush(flushToDisk: true);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // The original failure is what the caller needs to see.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}
