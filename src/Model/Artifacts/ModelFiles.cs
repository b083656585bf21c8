namespace ModelService.Model.Artifacts;

/// <summary>The contents of a model's two files, manifest.json and weights.bin, as stored.</summary>
/// <param name="Manifest">UTF-8 JSON of the manifest.</param>
/// <param name="Weights">The raw weights.</param>
public sealed record ModelFiles(byte[] Manifest, byte[] Weights);
