namespace ModelService.Model.Network;

/// <summary>One layer of the network as reported to users.</summary>
/// <param name="Type">"conv1x1", "batchnorm", "flatten" or "dense".</param>
/// <param name="InChannels">Input channels (for flatten and dense: input features).</param>
/// <param name="OutChannels">Output channels (for flatten: flattened features; for dense: 1).</param>
/// <param name="Parameters">Trainable parameters of this layer.</param>
/// <param name="Activation">The activation that follows a hidden conv1x1 layer; null otherwise (the per-position output
/// convolution has none).</param>
/// <param name="PositionDependentParameters">How many of <paramref name="Parameters"/> grow with the input's H x W: a
/// flatten-dense head's weights (one per flattened input); 0 for a layer shared by every position.</param>
public sealed record LayerInfo(
    string Type, int InChannels, int OutChannels, long Parameters, Activation? Activation = null, long PositionDependentParameters = 0);

/// <summary>
/// A regressor built from 1x1 convolutions: input [Height, Width, InputChannels] (channels last; tabular data is
/// [1, 1, features]) -> per hidden width: conv1x1 (+ batch norm) + activation (+ dropout) -> the head: flatten (H, W, C
/// order) then dense to one output per sample, or a last conv1x1 to one channel, one output per position.
/// </summary>
/// <param name="Height">Input height (1 for tabular data).</param>
/// <param name="Width">Input width (1 for tabular data).</param>
/// <param name="InputChannels">Channels per input position (encoded feature count for tabular data).</param>
/// <param name="HiddenChannels">Output channels of each hidden 1x1 convolution, in order.</param>
/// <param name="Activation">Activation after every hidden convolution.</param>
/// <param name="Dropout">Dropout probability after every hidden activation during training, in [0, 1).</param>
/// <param name="BatchNorm">Whether each hidden convolution is followed by batch normalisation.</param>
/// <param name="Head">What follows the hidden layers. A per-position network was trained on [Height, Width] but takes any
/// height and width.</param>
public sealed record NetworkSpec(
    int Height,
    int Width,
    int InputChannels,
    IReadOnlyList<int> HiddenChannels,
    Activation Activation = Activation.Relu,
    double Dropout = 0,
    bool BatchNorm = false,
    Head Head = Head.FlattenDense)
{
    /// <summary>The layers in order, with their parameter counts.</summary>
    public IReadOnlyList<LayerInfo> Layers
    {
        get
        {
            var layers = new List<LayerInfo>();
            var channels = InputChannels;
            foreach (var width in HiddenChannels)
            {
                layers.Add(new LayerInfo("conv1x1", channels, width, ((long)channels * width) + width, Activation));
                if (BatchNorm)
                {
                    layers.Add(new LayerInfo("batchnorm", width, width, 2L * width));
                }
                channels = width;
            }
            if (Head == Head.PerPosition)
            {
                layers.Add(new LayerInfo("conv1x1", channels, 1, channels + 1L));
                return layers;
            }
            // Counted in 64 bits: a shape too large for the network (refused by Validate) still reports its true size.
            var flattened = (long)Height * Width * channels;
            var shown = (int)Math.Min(flattened, int.MaxValue);
            layers.Add(new LayerInfo("flatten", channels, shown, 0));
            layers.Add(new LayerInfo("dense", shown, 1, flattened + 1, PositionDependentParameters: flattened));
            return layers;
        }
    }

    /// <summary>Total trainable parameters (batch norm counts gamma and beta).</summary>
    public long ParameterCount => Layers.Sum(l => l.Parameters);

    /// <summary>How many of the parameters grow with the input's H x W (only a flatten-dense head's weights).</summary>
    public long PositionDependentParameterCount => Layers.Sum(l => l.PositionDependentParameters);

    /// <summary>Input positions (Height x Width).</summary>
    internal int Positions => Height * Width;

    /// <summary>Channels after the last hidden layer.</summary>
    internal int LastChannels => HiddenChannels.Count == 0 ? InputChannels : HiddenChannels[^1];

    /// <summary>Inputs of the dense layer.</summary>
    internal int FlattenedWidth => Positions * LastChannels;

    /// <summary>Inputs of the output layer for one output: the flattened sample, or one position's last channels.</summary>
    internal int OutputInputs => Head == Head.PerPosition ? LastChannels : FlattenedWidth;

    /// <summary>Outputs per sample of the trained shape: one per position for a per-position head, else 1.</summary>
    internal int OutputsPerSample => Head == Head.PerPosition ? Positions : 1;

    /// <summary>Raw inputs per example (Height x Width x InputChannels).</summary>
    internal int InputSize => Positions * InputChannels;

    /// <summary>Throws <see cref="ArgumentException"/> when a size or rate is out of range.</summary>
    internal void Validate()
    {
        if (Height < 1 || Width < 1 || InputChannels < 1)
        {
            throw new ArgumentException($"The input shape [{Height}, {Width}, {InputChannels}] must be positive in every dimension.");
        }
        ArgumentNullException.ThrowIfNull(HiddenChannels);
        if (HiddenChannels.Any(c => c < 1))
        {
            throw new ArgumentException("Every hidden layer needs at least one channel.");
        }
        if ((long)Height * Width * Math.Max(InputChannels, LastChannels) > int.MaxValue)
        {
            throw new ArgumentException($"The input shape [{Height}, {Width}, {InputChannels}] is too large for one sample.");
        }
        if (!Enum.IsDefined(Activation))
        {
            throw new ArgumentException($"Unknown activation {Activation}.");
        }
        if (!Enum.IsDefined(Head))
        {
            throw new ArgumentException($"Unknown head {Head}.");
        }
        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentException($"Dropout must be in [0, 1), got {Dropout}.");
        }
    }
}
