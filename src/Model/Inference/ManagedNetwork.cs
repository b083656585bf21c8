using System.Numerics.Tensors;
using ModelService.Model.Artifacts;
using ModelService.Model.Network;

namespace ModelService.Model.Inference;

/// <summary>
/// The eval-mode forward pass of a <see cref="NetworkSpec"/> in plain float32 arithmetic: each hidden 1x1 convolution is a
/// dense [out, in] matrix applied to every position's channels, with batch normalisation folded into it and dropout
/// dropped. Immutable; every call works in buffers of its own.
/// </summary>
internal sealed class ManagedNetwork
{
    private const int StackLimit = 2048;
    internal const int VectorThreshold = 32;

    private readonly NetworkSpec _spec;
    private readonly Layer[] _layers;
    private readonly float[] _outputWeights;
    private readonly float _outputBias;
    private readonly int _widest;

    public ManagedNetwork(NetworkSpec spec, IReadOnlyList<NamedTensorData> weights)
    {
        _spec = spec;
        var layout = NetworkTensors.For(spec);
        float[] Values(TensorRole role, int layer) => weights[IndexOf(layout, role, layer)].Values;
        _layers = new Layer[spec.HiddenChannels.Count];
        var inputs = spec.InputChannels;
        for (var i = 0; i < _layers.Length; i++)
        {
            var outputs = spec.HiddenChannels[i];
            var matrix = (float[])Values(TensorRole.ConvWeight, i).Clone();
            var bias = (float[])Values(TensorRole.ConvBias, i).Clone();
            if (spec.BatchNorm)
            {
                Fold(matrix, bias, inputs, Values(TensorRole.BatchNormWeight, i), Values(TensorRole.BatchNormBias, i),
                    Values(TensorRole.RunningMean, i), Values(TensorRole.RunningVar, i));
            }
            _layers[i] = new Layer(inputs, outputs, matrix, bias);
            inputs = outputs;
        }
        _outputWeights = (float[])Values(TensorRole.DenseWeight, -1).Clone();
        _outputBias = Values(TensorRole.DenseBias, -1)[0];
        _widest = Math.Max(spec.InputChannels, spec.HiddenChannels.DefaultIfEmpty(0).Max());
    }

    /// <summary>The network output (standardised target) for one example of H·W·C inputs.</summary>
    public float Forward(ReadOnlySpan<float> input)
    {
        var scratchSize = (2 * _widest) + _spec.FlattenedWidth;
        float[]? rented = null;
        var scratch = scratchSize <= StackLimit
            ? stackalloc float[scratchSize]
            : (rented = System.Buffers.ArrayPool<float>.Shared.Rent(scratchSize)).AsSpan(0, scratchSize);
        try
        {
            var ping = scratch[.._widest];
            var pong = scratch.Slice(_widest, _widest);
            var flattened = scratch.Slice(2 * _widest, _spec.FlattenedWidth);
            var channels = _spec.LastChannels;
            for (var position = 0; position < _spec.Positions; position++)
            {
                scoped ReadOnlySpan<float> x = input.Slice(position * _spec.InputChannels, _spec.InputChannels);
                var target = ping;
                foreach (var layer in _layers)
                {
                    var y = target[..layer.Outputs];
                    layer.Apply(x, y, _spec.Activation);
                    x = y;
                    target = target == ping ? pong : ping;
                }
                x.CopyTo(flattened.Slice(position * channels, channels));
            }
            return Dot(_outputWeights, flattened) + _outputBias;
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    // For the few channels of a typical tabular model a plain loop beats the call and setup cost of a vectorised kernel.
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length >= VectorThreshold)
        {
            return TensorPrimitives.Dot(a, b);
        }
        float sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    // Eval-mode batch norm is y = gamma (z - mean) / sqrt(var + eps) + beta with z = W x + b: scale W's rows and shift b.
    private static void Fold(float[] matrix, float[] bias, int inputs, float[] gamma, float[] beta, float[] mean, float[] variance)
    {
        for (var o = 0; o < bias.Length; o++)
        {
            var scale = gamma[o] / Math.Sqrt(variance[o] + ConvRegressor.BatchNormEpsilon);
            for (var i = 0; i < inputs; i++)
            {
                matrix[(o * inputs) + i] = (float)(matrix[(o * inputs) + i] * scale);
            }
            bias[o] = (float)(((bias[o] - mean[o]) * scale) + beta[o]);
        }
    }

    private static int IndexOf(IReadOnlyList<NetworkTensor> layout, TensorRole role, int layer)
    {
        for (var i = 0; i < layout.Count; i++)
        {
            if (layout[i].Role == role && layout[i].Layer == layer)
            {
                return i;
            }
        }
        throw new InvalidOperationException($"The network has no {role} tensor for layer {layer}.");
    }

    private sealed class Layer(int inputs, int outputs, float[] matrix, float[] bias)
    {
        public int Outputs => outputs;

        public void Apply(ReadOnlySpan<float> x, Span<float> y, Activation activation)
        {
            var weights = matrix.AsSpan();
            for (var o = 0; o < outputs; o++)
            {
                y[o] = Dot(weights.Slice(o * inputs, inputs), x) + bias[o];
            }
            Activations.Apply(activation, y);
        }
    }
}
