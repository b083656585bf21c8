using ModelService.Model.Artifacts;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ModelService.Model.Network;

/// <summary>
/// The TorchSharp module of a <see cref="NetworkSpec"/>. Convolution weights are stored conv-shaped [out, in, 1, 1]; a 1x1
/// convolution is a matrix product over channels applied at every position, so the forward pass runs it as one
/// <c>linear</c> over all positions of the batch ([N·H·W, C]). All trainable values live in one flat tensor (the parameters
/// are views of it, and so are their gradients) so that an optimiser updates a single tensor per step.
/// </summary>
public sealed class ConvRegressor : nn.Module<Tensor, Tensor>
{
    internal const double BatchNormMomentum = 0.1;
    internal const double BatchNormEpsilon = 1e-5;
    internal const double LeakyReluSlope = 0.01;

    // Passed to LibTorch as a Scalar that lives as long as the process, never one made by implicit conversion that the
    // finalizer could free during the call (see FlatOptimizer).
    private static readonly Scalar s_leakyReluSlope = LeakyReluSlope.ToScalar();

    private readonly NetworkSpec _spec;
    private readonly Generator _generator;
    private readonly Tensor _flatData;
    private readonly Tensor _flatGrad;
    private readonly Parameter _flat;
    private readonly IReadOnlyList<NetworkTensor> _layout;
    private readonly Tensor[] _tensors;
    private readonly Hidden[] _hidden;
    private readonly Tensor _outputWeight;
    private readonly Tensor _outputBias;

    /// <summary>Creates the network with PyTorch's default initialisation drawn from <paramref name="generator"/>, which
    /// also draws the dropout masks in training mode (the module does not own it).</summary>
    /// <exception cref="ArgumentException">The spec is invalid.</exception>
    public ConvRegressor(NetworkSpec spec, Generator generator)
        : base(nameof(ConvRegressor))
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        _spec = spec;
        _generator = generator ?? throw new ArgumentNullException(nameof(generator));
        _layout = NetworkTensors.For(spec);

        // Slices, views and in-place results made while wiring the tensors are temporaries; only the kept tensors leave.
        using var scope = NewDisposeScope();
        var trainable = _layout.Where(t => t.Trainable).Sum(t => (long)t.Size);
        _flatData = zeros(trainable).DetachFromDisposeScope();
        _flatGrad = zeros(trainable).DetachFromDisposeScope();
        _flat = new Parameter(_flatData.detach());
        _flat.DetachFromDisposeScope();
        _flat.grad = _flatGrad;

        _tensors = new Tensor[_layout.Count];
        long offset = 0;
        for (var i = 0; i < _layout.Count; i++)
        {
            var entry = _layout[i];
            var shape = entry.Shape.Select(d => (long)d).ToArray();
            var registered = entry.Name.Replace('.', '_');
            if (entry.Trainable)
            {
                var parameter = new Parameter(_flatData.narrow(0, offset, entry.Size).view(shape));
                parameter.DetachFromDisposeScope();
                parameter.grad = _flatGrad.narrow(0, offset, entry.Size).view(shape);
                register_parameter(registered, parameter);
                _tensors[i] = parameter;
                offset += entry.Size;
            }
            else
            {
                var buffer = (entry.Role == TensorRole.RunningVar ? ones(shape) : zeros(shape)).DetachFromDisposeScope();
                register_buffer(registered, buffer);
                _tensors[i] = buffer;
            }
        }

        _hidden = new Hidden[spec.HiddenChannels.Count];
        for (var layer = 0; layer < _hidden.Length; layer++)
        {
            _hidden[layer] = new Hidden(
                spec.HiddenChannels[layer],
                layer == 0 ? spec.InputChannels : spec.HiddenChannels[layer - 1],
                Find(TensorRole.ConvWeight, layer)!,
                Find(TensorRole.ConvBias, layer)!,
                Find(TensorRole.BatchNormWeight, layer),
                Find(TensorRole.BatchNormBias, layer),
                Find(TensorRole.RunningMean, layer),
                Find(TensorRole.RunningVar, layer));
        }
        _outputWeight = Find(TensorRole.DenseWeight, -1)!;
        _outputBias = Find(TensorRole.DenseBias, -1)!;
        Initialise();
    }

    /// <summary>The architecture.</summary>
    public NetworkSpec Spec => _spec;

    /// <summary>One tensor aliasing every trainable value (in stored order), with the gradient of all of them.</summary>
    internal Parameter FlatParameter => _flat;

    /// <summary>Number of trainable values.</summary>
    public long TrainableCount => _flatData.shape[0];

    /// <summary>Computes outputs for input [N, H, W, C] or [N, H·W·C] (channels last): [N, 1] for a flatten-dense head;
    /// [N, H·W] for a per-position head, which takes any H and W.</summary>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_spec.Head == Head.PerPosition)
        {
            return ForwardPerPosition(input);
        }
        var rows = input.shape[0];
        var x = input.reshape(-1, _spec.InputChannels);
        foreach (var layer in _hidden)
        {
            x = nn.functional.linear(x, layer.Weight.view(layer.Out, layer.In), layer.Bias);
            if (layer.NormWeight is not null)
            {
                x = nn.functional.batch_norm(x, layer.RunningMean!, layer.RunningVar!, layer.NormWeight, layer.NormBias!,
                    training, BatchNormMomentum, BatchNormEpsilon);
            }
            x = Dropout(ActivateFresh(x, _spec.Activation));
        }
        return nn.functional.linear(x.reshape(rows, _spec.FlattenedWidth), _outputWeight, _outputBias);
    }

    // Positions are many and channels few, so the layers run channel-major: W [out, in] times the positions' channels
    // [in, N·H·W], a product whose long side is the positions, which LibTorch's GEMM runs faster than [N·H·W, in] times
    // Wᵀ with its narrow output. The last layer's [1, N·H·W] is already each sample's positions in H, W order.
    private Tensor ForwardPerPosition(Tensor input)
    {
        var rows = input.shape[0];
        var x = input.reshape(-1, _spec.InputChannels).t();
        foreach (var layer in _hidden)
        {
            x = layer.Bias.view(layer.Out, 1).addmm(layer.Weight.view(layer.Out, layer.In), x);
            if (layer.NormWeight is not null)
            {
                x = nn.functional.batch_norm(x.t(), layer.RunningMean!, layer.RunningVar!, layer.NormWeight, layer.NormBias!,
                    training, BatchNormMomentum, BatchNormEpsilon).t();
            }
            x = Dropout(ActivateFresh(x, _spec.Activation));
        }
        return _outputBias.view(1, 1).addmm(_outputWeight.view(1, _spec.LastChannels), x).reshape(rows, -1);
    }

    private Tensor Dropout(Tensor x)
    {
        if (!training || _spec.Dropout == 0)
        {
            return x;
        }
        var keep = 1 - _spec.Dropout;
        using var mask = empty_like(x).bernoulli_(keep, _generator);
        using var keepScalar = keep.ToScalar();
        return x.mul(mask.div_(keepScalar));
    }

    /// <summary>Clears the gradient of every trainable value.</summary>
    public void ZeroGradients()
    {
        _flatGrad.zero_();
    }

    /// <summary>The network's tensors (parameters and batch-norm running statistics) in stored order.</summary>
    public IReadOnlyList<NamedTensorData> ExportWeights()
    {
        var result = new NamedTensorData[_layout.Count];
        using var scope = NewDisposeScope();
        for (var i = 0; i < _layout.Count; i++)
        {
            var values = _tensors[i].detach().contiguous().data<float>().ToArray();
            result[i] = new NamedTensorData(_layout[i].Name, _layout[i].Shape, values);
        }
        return result;
    }

    /// <summary>Overwrites the network's tensors; names, order and shapes must match <see cref="ExportWeights"/>.</summary>
    /// <exception cref="ArgumentException">A tensor is missing or has another shape.</exception>
    public void LoadWeights(IReadOnlyList<NamedTensorData> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != _layout.Count)
        {
            throw new ArgumentException($"Expected {_layout.Count} tensors, got {weights.Count}.", nameof(weights));
        }
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (var i = 0; i < _layout.Count; i++)
        {
            var expected = _layout[i];
            var given = weights[i];
            if (given.Name != expected.Name || !given.Shape.SequenceEqual(expected.Shape) || given.Values.Length != expected.Size)
            {
                throw new ArgumentException(
                    $"Tensor {i} should be '{expected.Name}' [{string.Join(", ", expected.Shape)}], got '{given.Name}' [{string.Join(", ", given.Shape)}].",
                    nameof(weights));
            }
            _tensors[i].copy_(tensor(given.Values, _tensors[i].shape));
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _flat.Dispose();
            _flatGrad.Dispose();
            _flatData.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary><see cref="Activate"/> for a tensor that nothing else holds (a layer's fresh output): ReLU overwrites it
    /// instead of allocating another (autograd's ReLU backward needs only the result, and neither a matrix product nor
    /// batch norm needs its own output for its gradient); the values are the same.</summary>
    private static Tensor ActivateFresh(Tensor x, Activation activation) =>
        activation == Activation.Relu ? x.relu_() : Activate(x, activation);

    /// <summary>The activation's function; shared with the batched trainer so that both compute the same values.</summary>
    internal static Tensor Activate(Tensor x, Activation activation) => activation switch
    {
        Activation.Relu => nn.functional.relu(x),
        Activation.LeakyRelu => x.leaky_relu(s_leakyReluSlope),
        Activation.Gelu => nn.functional.gelu(x),
        Activation.Tanh => x.tanh(),
        Activation.Sigmoid => x.sigmoid(),
        _ => throw new InvalidOperationException($"Unknown activation {activation}."),
    };

    // PyTorch's defaults: conv and linear weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); batch norm gamma 1, beta 0.
    private void Initialise()
    {
        using var noGrad = no_grad();
        for (var i = 0; i < _layout.Count; i++)
        {
            var entry = _layout[i];
            switch (entry.Role)
            {
                case TensorRole.ConvWeight or TensorRole.ConvBias or TensorRole.DenseWeight or TensorRole.DenseBias:
                    var fanIn = entry.Role is TensorRole.DenseWeight or TensorRole.DenseBias
                        ? _spec.OutputInputs
                        : _hidden[entry.Layer].In;
                    var bound = 1.0 / Math.Sqrt(fanIn);
                    _tensors[i].uniform_(-bound, bound, _generator);
                    break;
                case TensorRole.BatchNormWeight or TensorRole.RunningVar:
                    _tensors[i].fill_(1);
                    break;
                default:
                    _tensors[i].zero_();
                    break;
            }
        }
    }

    private Tensor? Find(TensorRole role, int layer) => NetworkTensors.Find(_layout, _tensors, role, layer);

    private sealed record Hidden(
        int Out, int In, Tensor Weight, Tensor Bias, Tensor? NormWeight, Tensor? NormBias, Tensor? RunningMean, Tensor? RunningVar);
}
