using ModelService.Model.Artifacts;

namespace ModelService.Model.Network;

/// <summary>What a stored tensor holds.</summary>
internal enum TensorRole
{
    ConvWeight,
    ConvBias,
    BatchNormWeight,
    BatchNormBias,
    RunningMean,
    RunningVar,
    /// <summary>The output layer's weight: dense [1, H·W·C] or, per position, conv [1, C, 1, 1].</summary>
    DenseWeight,
    DenseBias,
}

/// <summary>A tensor of the network: its stored name and shape, the hidden layer it belongs to (-1 for the dense
/// output) and whether the optimiser trains it.</summary>
internal sealed record NetworkTensor(string Name, int[] Shape, TensorRole Role, int Layer)
{
    public bool Trainable => Role is not (TensorRole.RunningMean or TensorRole.RunningVar);

    public int Size => Shape.Aggregate(1, (a, b) => a * b);

    public TensorEntry ToEntry() => new(Name, Shape);
}

/// <summary>The fixed naming and order of a network's tensors, shared by the module, the artifact and the predictor.</summary>
internal static class NetworkTensors
{
    public static IReadOnlyList<NetworkTensor> For(NetworkSpec spec)
    {
        var tensors = new List<NetworkTensor>();
        var channels = spec.InputChannels;
        for (var i = 0; i < spec.HiddenChannels.Count; i++)
        {
            var width = spec.HiddenChannels[i];
            tensors.Add(new($"hidden.{i}.conv.weight", [width, channels, 1, 1], TensorRole.ConvWeight, i));
            tensors.Add(new($"hidden.{i}.conv.bias", [width], TensorRole.ConvBias, i));
            if (spec.BatchNorm)
            {
                tensors.Add(new($"hidden.{i}.bn.weight", [width], TensorRole.BatchNormWeight, i));
                tensors.Add(new($"hidden.{i}.bn.bias", [width], TensorRole.BatchNormBias, i));
                tensors.Add(new($"hidden.{i}.bn.running_mean", [width], TensorRole.RunningMean, i));
                tensors.Add(new($"hidden.{i}.bn.running_var", [width], TensorRole.RunningVar, i));
            }
            channels = width;
        }
        // The per-position output is a 1x1 convolution to one channel, stored conv-shaped like the hidden ones.
        tensors.Add(spec.Head == Head.PerPosition
            ? new("output.weight", [1, spec.LastChannels, 1, 1], TensorRole.DenseWeight, -1)
            : new("output.weight", [1, spec.FlattenedWidth], TensorRole.DenseWeight, -1));
        tensors.Add(new("output.bias", [1], TensorRole.DenseBias, -1));
        return tensors;
    }

    /// <summary>The value paired with the tensor of <paramref name="role"/> in hidden layer <paramref name="layer"/> (-1 for
    /// the dense output), or null when the network has none (batch norm off).</summary>
    public static T? Find<T>(IReadOnlyList<NetworkTensor> layout, IReadOnlyList<T> values, TensorRole role, int layer)
        where T : class
    {
        for (var i = 0; i < layout.Count; i++)
        {
            if (layout[i].Role == role && layout[i].Layer == layer)
            {
                return values[i];
            }
        }
        return null;
    }
}
