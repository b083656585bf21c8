using ModelService.Model.Data;
using ModelService.Model.Network;
using ModelService.Model.Serialization;
using ModelService.Model.Preprocessing;

namespace ModelService.Model.Artifacts;

/// <summary>A trained model in memory: its manifest, weights and preprocessing. Immutable.</summary>
public sealed class TrainedModel
{
    /// <summary>Creates a model, checking that the weights match the manifest's tensor list, its network and its
    /// SHA-256, and that the preprocessing produces the network's input size.</summary>
    /// <exception cref="ArgumentException">The weights or preprocessing do not match the manifest or the network.</exception>
    public TrainedModel(ModelManifest manifest, IReadOnlyList<NamedTensorData> weights)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(manifest.Network, "network");
        ArgumentNullException.ThrowIfNull(manifest.Tensors, "tensors");
        ArgumentNullException.ThrowIfNull(manifest.Features, "features");
        ArgumentNullException.ThrowIfNull(manifest.TargetScaling, "targetScaling");
        if (manifest.Tensors.Any(t => t?.Shape is null) || weights.Any(w => w?.Shape is null || w.Values is null))
        {
            throw new ArgumentException("Every tensor needs a name, a shape and values.");
        }
        manifest.Network.Validate();
        var expected = NetworkTensors.For(manifest.Network);
        if (manifest.Tensors.Count != expected.Count || weights.Count != expected.Count)
        {
            throw new ArgumentException(
                $"The network needs {expected.Count} tensors; the manifest lists {manifest.Tensors.Count} and {weights.Count} were given.");
        }
        for (var i = 0; i < expected.Count; i++)
        {
            var want = expected[i];
            var listed = manifest.Tensors[i];
            var given = weights[i];
            if (listed.Name != want.Name || !listed.Shape.SequenceEqual(want.Shape)
                || given.Name != want.Name || !given.Shape.SequenceEqual(want.Shape) || given.Values.Length != want.Size)
            {
                throw new ArgumentException(
                    $"Tensor {i} must be '{want.Name}' with shape [{string.Join(", ", want.Shape)}]; the manifest lists '{listed.Name}' "
                    + $"[{string.Join(", ", listed.Shape)}] and the weights hold '{given.Name}' with {given.Values.Length} values.");
            }
        }
        var sha = WeightsFile.Sha256(weights);
        if (!string.Equals(sha, manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"The weights' SHA-256 is {sha} but the manifest records {manifest.WeightsSha256}.");
        }
        Preprocessor = new Preprocessor(manifest.Features, manifest.TargetScaling);
        CheckInput(manifest, Preprocessor);
        Manifest = manifest;
        Weights = weights;
    }

    /// <summary>The manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The tensors in manifest order.</summary>
    public IReadOnlyList<NamedTensorData> Weights { get; }

    /// <summary>Preprocessing built from the manifest.</summary>
    public Preprocessor Preprocessor { get; }

    // A table model encodes its features into the whole [1, 1, C] input; a tensor model standardises each position's
    // channels, one numeric feature per channel, and its target shape follows from the head.
    private static void CheckInput(ModelManifest manifest, Preprocessor preprocessor)
    {
        var network = manifest.Network;
        switch (manifest.InputKind)
        {
            case InputKind.Table:
                if (network.Head != Head.FlattenDense || manifest.TargetShape is not null)
                {
                    throw new ArgumentException("A table model has a flatten-dense head and no target shape.");
                }
                if (preprocessor.InputWidth != network.InputSize)
                {
                    throw new ArgumentException(
                        $"The features encode to {preprocessor.InputWidth} inputs but the network takes {network.InputSize}.");
                }
                break;
            case InputKind.Tensor:
                if (!preprocessor.IsNumeric || preprocessor.InputWidth != network.InputChannels)
                {
                    throw new ArgumentException(
                        $"A tensor model needs one numeric feature per channel: the network takes {network.InputChannels} channels and "
                        + $"the features encode to {preprocessor.InputWidth}.");
                }
                IReadOnlyList<int> expected = network.Head == Head.PerPosition ? [network.Height, network.Width] : [];
                if (manifest.TargetShape is not { } shape || !shape.SequenceEqual(expected))
                {
                    throw new ArgumentException(
                        $"A tensor model with a {WireNames.Of(network.Head)} head has the target shape [{string.Join(", ", expected)}].");
                }
                break;
            default:
                throw new ArgumentException($"Unknown input kind {manifest.InputKind}.");
        }
    }
}
