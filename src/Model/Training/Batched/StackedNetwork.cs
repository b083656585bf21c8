using ModelService.Model.Artifacts;
using ModelService.Model.Network;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ModelService.Model.Training.Batched;

/// <summary>
/// K networks of one architecture as one computation: every tensor of <see cref="ConvRegressor"/> gains a leading trial
/// dimension, and each layer is one batched matrix product (<c>baddbmm</c>) over [K, rows, channels]. As in
/// <see cref="ConvRegressor"/>, the trainable values of all trials live in one [K, P] tensor whose rows are the trials'
/// flat parameters (the layers' parameters and their gradients are views of it), so one optimiser update per step covers
/// every trial. Batch normalisation runs over [rows, K·C], which normalises each trial's channels on its own rows; dropout
/// masks are drawn per trial from that trial's generator, in the order its own network would draw them.
/// </summary>
internal sealed class StackedNetwork : IDisposable
{
    private readonly NetworkSpec _spec;
    private readonly IReadOnlyList<NetworkTensor> _layout;
    private readonly Tensor _flatData;
    private readonly Tensor _flatGrad;
    private readonly Tensor[] _tensors;
    private readonly Hidden[] _hidden;
    private readonly Tensor _outputWeight;
    private readonly Tensor _outputBias;
    private readonly double[] _dropout;
    private readonly Generator[] _generators;

    /// <summary>Stacks the trials' weights (each as <see cref="ConvRegressor.ExportWeights"/> gives them) for the
    /// architecture <paramref name="spec"/>; <paramref name="dropout"/> and <paramref name="generators"/> are per trial.</summary>
    public StackedNetwork(
        NetworkSpec spec, IReadOnlyList<IReadOnlyList<NamedTensorData>> weights, IReadOnlyList<double> dropout, IReadOnlyList<Generator> generators)
    {
        if (spec.Head != Head.FlattenDense)
        {
            throw new ArgumentException("Stacked training covers tables, whose networks have a flatten-dense head.", nameof(spec));
        }
        _spec = spec;
        _layout = NetworkTensors.For(spec);
        _dropout = [.. dropout];
        _generators = [.. generators];
        var trials = weights.Count;
        var trainable = _layout.Where(t => t.Trainable).Sum(t => (long)t.Size);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _flatData = zeros(trials, trainable).DetachFromDisposeScope();
        _flatGrad = zeros(trials, trainable).DetachFromDisposeScope();
        _tensors = new Tensor[_layout.Count];
        long offset = 0;
        for (var i = 0; i < _layout.Count; i++)
        {
            var entry = _layout[i];
            long[] shape = [trials, .. StackedShape(entry)];
            var values = tensor(weights.SelectMany(w => w[i].Values).ToArray(), shape);
            if (entry.Trainable)
            {
                _flatData.narrow(1, offset, entry.Size).copy_(values.view(trials, entry.Size));
                var parameter = new Parameter(_flatData.narrow(1, offset, entry.Size).view(shape));
                parameter.DetachFromDisposeScope();
                parameter.grad = _flatGrad.narrow(1, offset, entry.Size).view(shape);
                _tensors[i] = parameter;
                offset += entry.Size;
            }
            else
            {
                _tensors[i] = values.contiguous().DetachFromDisposeScope();
            }
        }

        _hidden = new Hidden[spec.HiddenChannels.Count];
        for (var layer = 0; layer < _hidden.Length; layer++)
        {
            _hidden[layer] = new Hidden(
                spec.HiddenChannels[layer],
                Find(TensorRole.ConvWeight, layer)!,
                Find(TensorRole.ConvBias, layer)!,
                Find(TensorRole.BatchNormWeight, layer),
                Find(TensorRole.BatchNormBias, layer),
                Find(TensorRole.RunningMean, layer),
                Find(TensorRole.RunningVar, layer));
        }
        _outputWeight = Find(TensorRole.DenseWeight, -1)!;
        _outputBias = Find(TensorRole.DenseBias, -1)!;
    }

    public int Trials => (int)_flatData.shape[0];

    /// <summary>[K, P]: row k is trial k's trainable values in <see cref="ConvRegressor"/>'s flat order.</summary>
    public Tensor FlatData => _flatData;

    /// <summary>[K, P]: the gradients of <see cref="FlatData"/>.</summary>
    public Tensor FlatGradient => _flatGrad;

    public NetworkSpec Spec => _spec;

    /// <summary>[K, rows, 1] outputs for inputs [K, rows·positions, InputChannels]; <paramref name="training"/> as the
    /// module's training mode (batch statistics and dropout).</summary>
    public Tensor Forward(Tensor input, bool training)
    {
        var trials = input.shape[0];
        var rows = input.shape[1] / _spec.Positions;
        var x = input;
        foreach (var layer in _hidden)
        {
            x = AddBatchProduct(layer.Bias, x, layer.Weight.transpose(1, 2));
            if (layer.NormWeight is not null)
            {
                x = BatchNorm(x, layer, training);
            }
            x = ConvRegressor.Activate(x, _spec.Activation);
            if (training && _dropout.Any(p => p > 0))
            {
                x = x.mul(DropoutMasks(x.shape[1], layer.Out));
            }
        }
        return AddBatchProduct(_outputBias, x.reshape(trials, rows, _spec.FlattenedWidth), _outputWeight.transpose(1, 2));
    }

    public void ZeroGradients() => _flatGrad.zero_();

    /// <summary>Trial <paramref name="trial"/>'s tensors in <see cref="ConvRegressor.ExportWeights"/>'s names and order.</summary>
    public IReadOnlyList<NamedTensorData> ExportWeights(int trial)
    {
        using var scope = NewDisposeScope();
        return _layout.Select((entry, i) =>
            new NamedTensorData(entry.Name, entry.Shape, _tensors[i][trial].detach().contiguous().data<float>().ToArray())).ToArray();
    }

    /// <summary>A new stack of the trials at <paramref name="keep"/>, in that order, with their weights and generators.</summary>
    public StackedNetwork Select(IReadOnlyList<int> keep) =>
        new(_spec, keep.Select(ExportWeights).ToArray(), keep.Select(k => _dropout[k]).ToArray(), keep.Select(k => _generators[k]).ToArray());

    public void Dispose()
    {
        foreach (var t in _tensors)
        {
            t.Dispose();
        }
        _flatGrad.Dispose();
        _flatData.Dispose();
    }

    // Per trial: a convolution weight [out, in, 1, 1] is used as [out, in]; biases are shaped to broadcast over rows.
    private static long[] StackedShape(NetworkTensor entry) => entry.Role switch
    {
        TensorRole.ConvWeight => [entry.Shape[0], entry.Shape[1]],
        TensorRole.ConvBias or TensorRole.DenseBias => [1, entry.Shape[0]],
        _ => entry.Shape.Select(d => (long)d).ToArray(),
    };

    /// <summary>input + batch1 @ batch2 in one call, as PyTorch's <c>baddbmm(input, batch1, batch2)</c>. TorchSharp 0.107's
    /// <c>Tensor.baddbmm(a, b)</c> computes b + this @ a (the native glue takes its receiver as batch1), so the receiver
    /// here is batch1; the equality tests against the single trainer fail if that ever changes.</summary>
    private static Tensor AddBatchProduct(Tensor input, Tensor batch1, Tensor batch2) => batch1.baddbmm(batch2, input);

    private static Tensor BatchNorm(Tensor x, Hidden layer, bool training)
    {
        var (trials, rows, channels) = (x.shape[0], x.shape[1], x.shape[2]);
        var wide = x.transpose(0, 1).reshape(rows, trials * channels);
        var normalised = nn.functional.batch_norm(wide,
            layer.RunningMean!.view(trials * channels), layer.RunningVar!.view(trials * channels),
            layer.NormWeight!.reshape(trials * channels), layer.NormBias!.reshape(trials * channels),
            training, ConvRegressor.BatchNormMomentum, ConvRegressor.BatchNormEpsilon);
        return normalised.view(rows, trials, channels).transpose(0, 1);
    }

    private Tensor DropoutMasks(long rows, int channels)
    {
        var masks = new Tensor[_dropout.Length];
        for (var k = 0; k < masks.Length; k++)
        {
            if (_dropout[k] > 0)
            {
                var keep = 1 - _dropout[k];
                using var keepScalar = keep.ToScalar(); // held for the call: see FlatOptimizer
                masks[k] = empty(rows, channels).bernoulli_(keep, _generators[k]).div_(keepScalar);
            }
            else
            {
                masks[k] = ones(rows, channels);
            }
        }
        return stack(masks);
    }

    private Tensor? Find(TensorRole role, int layer) => NetworkTensors.Find(_layout, _tensors, role, layer);

    private sealed record Hidden(
        int Out, Tensor Weight, Tensor Bias, Tensor? NormWeight, Tensor? NormBias, Tensor? RunningMean, Tensor? RunningVar);
}
