using System.Buffers;
using System.Numerics.Tensors;
using ModelService.Model.Artifacts;
using ModelService.Model.Network;

namespace ModelService.Model.Inference;

/// <summary>
/// The eval-mode forward pass of a <see cref="NetworkSpec"/> in plain float32 arithmetic: each hidden 1x1 convolution is a
/// dense [out, in] matrix applied to every position's channels, with batch normalisation folded into it and dropout
/// dropped. A per-position network takes each position as a row, so its 1x1 convolutions over [N, H, W, C] are one matrix
/// multiply over [N·H·W, C] rows. Immutable; every call works in buffers of its own.
/// </summary>
/// <remarks>
/// One row goes through <see cref="Forward(ReadOnlySpan{float})"/>, vectorised across each layer's outputs; a block of
/// rows goes through <see cref="Forward(ReadOnlySpan{float}, int, Span{float})"/>, transposed so that <see cref="BlockKernel"/>
/// vectorises across the block's examples. Both accumulate every output as bias, then input 0, input 1, ... with separate
/// multiply and add roundings, so a row gets the same bits whichever path and batch size it goes through.
/// </remarks>
internal sealed class ManagedNetwork
{
    /// <summary>Rows per block in the batched path: large enough to amortise a kernel call per weight, small enough
    /// that a block's activations stay in the L1/L2 cache.</summary>
    public const int BlockRows = 256;

    private const int StackLimit = 2048;

    private readonly int _inputChannels;
    private readonly int _lastChannels;
    private readonly int _positions;
    private readonly int _flattened;
    private readonly Layer[] _layers;
    private readonly float[] _outputWeights;
    private readonly float _outputBias;
    private readonly int _widest;

    /// <summary>Folds the weights of <paramref name="spec"/>. A per-position network runs each position as a row of its
    /// own (its output convolution is the dense output of a single position), so that [N, H, W, C] inputs of any H and W
    /// are one block of N·H·W rows of C channels.</summary>
    public ManagedNetwork(NetworkSpec spec, IReadOnlyList<NamedTensorData> weights)
    {
        _inputChannels = spec.InputChannels;
        _lastChannels = spec.LastChannels;
        _positions = spec.Head == Head.PerPosition ? 1 : spec.Positions;
        _flattened = _positions * _lastChannels;
        RowWidth = _positions * _inputChannels;
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
            _layers[i] = new Layer(inputs, outputs, matrix, bias, spec.Activation);
            inputs = outputs;
        }
        _outputWeights = (float[])Values(TensorRole.DenseWeight, -1).Clone();
        _outputBias = Values(TensorRole.DenseBias, -1)[0];
        _widest = Math.Max(spec.InputChannels, spec.HiddenChannels.DefaultIfEmpty(0).Max());
    }

    /// <summary>Inputs per row: H·W·C of the trained shape, or C for a per-position network (a row is one position).</summary>
    public int RowWidth { get; }

    /// <summary>The network output (standardised target) for one row of <see cref="RowWidth"/> inputs.</summary>
    public float Forward(ReadOnlySpan<float> input)
    {
        var scratchSize = (2 * _widest) + _flattened;
        float[]? rented = null;
        var scratch = scratchSize <= StackLimit
            ? stackalloc float[scratchSize]
            : (rented = ArrayPool<float>.Shared.Rent(scratchSize)).AsSpan(0, scratchSize);
        try
        {
            var ping = scratch[.._widest];
            var pong = scratch.Slice(_widest, _widest);
            var flattened = scratch.Slice(2 * _widest, _flattened);
            var channels = _lastChannels;
            for (var position = 0; position < _positions; position++)
            {
                scoped ReadOnlySpan<float> x = input.Slice(position * _inputChannels, _inputChannels);
                var target = ping;
                foreach (var layer in _layers)
                {
                    var y = target[..layer.Outputs];
                    layer.Apply(x, y);
                    x = y;
                    target = target == ping ? pong : ping;
                }
                x.CopyTo(flattened.Slice(position * channels, channels));
            }
            var sum = _outputBias;
            for (var k = 0; k < flattened.Length; k++)
            {
                sum = (_outputWeights[k] * flattened[k]) + sum;
            }
            return sum;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The network outputs for <paramref name="rows"/> rows of <see cref="RowWidth"/> inputs each, row-major.</summary>
    public void Forward(ReadOnlySpan<float> inputs, int rows, Span<float> outputs)
    {
        var width = RowWidth;
        var block = Math.Min(rows, BlockRows);
        var scratchPerRow = width + (2 * _widest) + _flattened;
        var rented = ArrayPool<float>.Shared.Rent(block * scratchPerRow);
        try
        {
            for (var start = 0; start < rows; start += block)
            {
                var count = Math.Min(block, rows - start);
                ForwardBlock(inputs.Slice(start * width, count * width), count, outputs.Slice(start, count),
                    rented.AsSpan(0, count * scratchPerRow));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    // Feature-major throughout: row j of a [features, n] buffer holds feature j of every example in the block.
    private void ForwardBlock(ReadOnlySpan<float> inputs, int n, Span<float> outputs, Span<float> scratch)
    {
        var width = RowWidth;
        var transposed = scratch[..(width * n)];
        var ping = scratch.Slice(width * n, _widest * n);
        var pong = scratch.Slice((width + _widest) * n, _widest * n);
        var flattened = scratch.Slice((width + (2 * _widest)) * n, _flattened * n);
        for (var r = 0; r < n; r++)
        {
            var row = inputs.Slice(r * width, width);
            for (var j = 0; j < width; j++)
            {
                transposed[(j * n) + r] = row[j];
            }
        }
        var channels = _lastChannels;
        for (var position = 0; position < _positions; position++)
        {
            scoped ReadOnlySpan<float> x = transposed.Slice(position * _inputChannels * n, _inputChannels * n);
            var destination = flattened.Slice(position * channels * n, channels * n);
            var target = ping;
            for (var l = 0; l < _layers.Length; l++)
            {
                var y = l == _layers.Length - 1 ? destination : target[..(_layers[l].Outputs * n)];
                _layers[l].Apply(x, n, y);
                x = y;
                target = target == ping ? pong : ping;
            }
            if (_layers.Length == 0)
            {
                x.CopyTo(destination);
            }
        }
        BlockKernel.MultiplyAccumulate(_outputWeights, new ReadOnlySpan<float>(in _outputBias), _outputWeights.Length, flattened, n,
            outputs);
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

    /// <summary>One hidden 1x1 convolution: y = activation(W x + b), W [outputs, inputs].</summary>
    private sealed class Layer
    {
        private readonly int _inputs;
        private readonly float[] _matrix;
        private readonly float[] _transposed;
        private readonly float[] _bias;
        private readonly Activation _activation;

        public Layer(int inputs, int outputs, float[] matrix, float[] bias, Activation activation)
        {
            _inputs = inputs;
            Outputs = outputs;
            _matrix = matrix;
            _bias = bias;
            _activation = activation;
            _transposed = new float[inputs * outputs];
            for (var o = 0; o < outputs; o++)
            {
                for (var i = 0; i < inputs; i++)
                {
                    _transposed[(i * outputs) + o] = matrix[(o * inputs) + i];
                }
            }
        }

        public int Outputs { get; }

        /// <summary>One example: y = b, then y += W[:, i] x[i] for each input i, vectorised across the outputs.</summary>
        public void Apply(ReadOnlySpan<float> x, Span<float> y)
        {
            _bias.CopyTo(y);
            for (var i = 0; i < _inputs; i++)
            {
                TensorPrimitives.MultiplyAdd(_transposed.AsSpan(i * Outputs, Outputs), x[i], y, y);
            }
            Activations.Apply(_activation, y);
        }

        /// <summary>A block of <paramref name="n"/> examples, feature-major: y[o] = b[o], then y[o] += W[o, i] x[i] for each
        /// input i, vectorised across the examples.</summary>
        public void Apply(ReadOnlySpan<float> x, int n, Span<float> y)
        {
            BlockKernel.MultiplyAccumulate(_matrix, _bias, _inputs, x, n, y);
            Activations.Apply(_activation, y);
        }
    }
}
