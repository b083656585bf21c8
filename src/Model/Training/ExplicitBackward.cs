using ModelService.Model.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelService.Model.Training;

/// <summary>
/// A training step's forward and backward pass written out for a per-position ReLU network without dropout or batch
/// norm, instead of recorded by autograd. The graph is fixed (matrix products, ReLU, the mean squared error), so the
/// gradient is a few matrix products written straight into the views of the network's flat gradient, every value of it
/// (no zeroing). At a per-position batch's sizes (thousands of positions, a few channels) autograd's engine and its ReLU
/// backward cost as much as the products themselves. Same math as autograd; the products' rounding may differ.
/// </summary>
internal sealed class ExplicitBackward : IDisposable
{
    private readonly Product[] _products;
    private readonly Tensor _ones;
    private readonly Tensor _squaredErrors;
    private readonly Scalar _perPosition; // held for the calls that read it: see FlatOptimizer
    private readonly int _inputChannels;

    private ExplicitBackward(ConvRegressor network, int batchSize)
    {
        var spec = network.Spec;
        _inputChannels = spec.InputChannels;
        _ones = ones((long)batchSize * spec.Positions).DetachFromDisposeScope();
        _squaredErrors = zeros(1).DetachFromDisposeScope();
        _perPosition = (1.0 / spec.Positions).ToScalar();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = network.FlatParameter.detach();
        var gradient = network.FlatParameter.grad ?? throw new InvalidOperationException("The network has no gradient tensor.");
        var widths = spec.HiddenChannels.Append(1).ToArray();
        _products = new Product[widths.Length];
        long offset = 0;
        var inputs = spec.InputChannels;
        for (var i = 0; i < widths.Length; i++)
        {
            // Stored order: each hidden layer's weight [out, in, 1, 1] then bias [out], then the output's (NetworkTensors).
            long outputs = widths[i];
            var weights = outputs * inputs;
            _products[i] = new Product(
                values.narrow(0, offset, weights).view(outputs, inputs).DetachFromDisposeScope(),
                values.narrow(0, offset, weights).view(outputs, inputs).t().DetachFromDisposeScope(),
                values.narrow(0, offset + weights, outputs).view(outputs, 1).DetachFromDisposeScope(),
                gradient.narrow(0, offset, weights).view(outputs, inputs).DetachFromDisposeScope(),
                gradient.narrow(0, offset + weights, outputs).DetachFromDisposeScope());
            offset += weights + outputs;
            inputs = widths[i];
        }
        if (offset != network.TrainableCount)
        {
            throw new InvalidOperationException($"The layers cover {offset} of {network.TrainableCount} trainable values.");
        }
    }

    /// <summary>Whether a network of <paramref name="spec"/> can be trained this way.</summary>
    public static bool Supports(NetworkSpec spec) =>
        spec.Head == Head.PerPosition && spec.Activation == Activation.Relu && spec.Dropout == 0 && !spec.BatchNorm;

    /// <summary>The explicit backward pass for <paramref name="network"/> with batches of at most
    /// <paramref name="batchSize"/> samples, or null when the network needs autograd.</summary>
    public static ExplicitBackward? For(ConvRegressor network, int batchSize) =>
        Supports(network.Spec) ? new ExplicitBackward(network, batchSize) : null;

    /// <summary>
    /// Runs a training batch's forward pass on <paramref name="inputs"/> [samples, H·W·C] and writes the gradient of the
    /// mean squared error against <paramref name="targets"/> [samples, H·W] into the network's flat gradient. Adds the
    /// batch's mean squared error times its samples to <paramref name="lossSum"/>, as the autograd step does. Needs
    /// no_grad; the caller disposes the temporaries.
    /// </summary>
    public void Step(Tensor inputs, Tensor targets, Tensor lossSum)
    {
        var activations = new Tensor[_products.Length];
        activations[0] = inputs.view(-1, _inputChannels).t(); // [C, positions], channel-major like ForwardPerPosition
        for (var i = 1; i < _products.Length; i++)
        {
            var layer = _products[i - 1];
            activations[i] = layer.Bias.addmm(layer.Weight, activations[i - 1]).relu_();
        }
        var output = _products[^1];
        var error = output.Bias.addmm(output.Weight, activations[^1]).sub_(targets.view(1, -1)); // [1, positions]
        var count = error.shape[1];
        var ones = count == _ones.shape[0] ? _ones : _ones.narrow(0, 0, count);

        // d(mean of error²)/d(output) = 2·error/count; the factor rides on every gradient product's alpha.
        var scale = 2f / count;
        var delta = error;
        for (var i = _products.Length - 1; i >= 0; i--)
        {
            var layer = _products[i];
            if (i < _products.Length - 1)
            {
                // Through the layer above, then ReLU: its output's sign is 1 where it passed its input and 0 where it cut
                // it. The activation is no longer needed as a value (the layer above's weight gradient is done).
                delta = _products[i + 1].WeightTransposed.mm(delta).mul_(activations[i + 1].sign_());
            }
            layer.WeightGradient.addmm_(delta, activations[i].t(), beta: 0, alpha: scale);
            layer.BiasGradient.addmv_(delta, ones, beta: 0, alpha: scale);
        }
        _squaredErrors.addmv_(error, error.view(-1), beta: 0);
        lossSum.add_(_squaredErrors, alpha: _perPosition);
    }

    public void Dispose()
    {
        foreach (var product in _products)
        {
            product.Dispose();
        }
        _ones.Dispose();
        _squaredErrors.Dispose();
        _perPosition.Dispose();
    }

    /// <summary>One matrix product of the forward pass (a hidden layer or the output): views of the flat parameter and
    /// of its gradient.</summary>
    private sealed record Product(Tensor Weight, Tensor WeightTransposed, Tensor Bias, Tensor WeightGradient, Tensor BiasGradient)
        : IDisposable
    {
        public void Dispose()
        {
            Weight.Dispose();
            WeightTransposed.Dispose();
            Bias.Dispose();
            WeightGradient.Dispose();
            BiasGradient.Dispose();
        }
    }
}
