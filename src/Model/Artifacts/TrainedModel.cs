using ModelService.Model.Preprocessing;

namespace ModelService.Model.Artifacts;

/// <summary>A trained model in memory: its manifest, weights and preprocessing. Immutable.</summary>
public sealed class TrainedModel
{
    /// <summary>Creates a model; the weights must match the manifest's tensor list.</summary>
    /// <exception cref="ArgumentException">The weights do not match the manifest or the network.</exception>
    public TrainedModel(ModelManifest manifest, IReadOnlyList<NamedTensorData> weights)
    {
        Manifest = manifest;
        Weights = weights;
        throw new NotImplementedException();
    }

    /// <summary>The manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The tensors in manifest order.</summary>
    public IReadOnlyList<NamedTensorData> Weights { get; }

    /// <summary>Preprocessing built from the manifest.</summary>
    public Preprocessor Preprocessor { get; } = null!;
}
