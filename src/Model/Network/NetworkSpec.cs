namespace ModelService.Model.Network;

/// <summary>One layer of the network as reported to users.</summary>
/// <param name="Type">"conv1x1", "batchnorm", "flatten" or "dense".</param>
/// <param name="InChannels">Input channels (for flatten and dense: input features).</param>
/// <param name="OutChannels">Output channels (for flatten: flattened features; for dense: 1).</param>
/// <param name="Parameters">Trainable parameters of this layer.</param>
/// <param name="Activation">The activation that follows a conv1x1 layer; null otherwise.</param>
public sealed record LayerInfo(string Type, int InChannels, int OutChannels, long Parameters, Activation? Activation = null);

/// <summary>
/// A regressor built from 1x1 convolutions: input [Height, Width, InputChannels] (channels last; tabular data is
/// [1, 1, features]) -> per hidden width: conv1x1 (+ batch norm) + activation (+ dropout) -> flatten (H, W, C order)
/// -> dense to one output.
/// </summary>
/// <param name="Height">Input height (1 for tabular data).</param>
/// <param name="Width">Input width (1 for tabular data).</param>
/// <param name="InputChannels">Channels per input position (encoded feature count for tabular data).</param>
/// <param name="HiddenChannels">Output channels of each hidden 1x1 convolution, in order.</param>
/// <param name="Activation">Activation after every hidden convolution.</param>
/// <param name="Dropout">Dropout probability after every hidden activation during training, in [0, 1).</param>
/// <param name="BatchNorm">Whether each hidden convolution is followed by batch normalisation.</param>
public sealed record NetworkSpec(
    int Height,
    int Width,
    int InputChannels,
    IReadOnlyList<int> HiddenChannels,
    Activation Activation = Activation.Relu,
    double Dropout = 0,
    bool BatchNorm = false)
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
            var flattened = FlattenedWidth;
            layers.Add(new LayerInfo("flatten", channels, flattened, 0));
            layers.Add(new LayerInfo("dense", flattened, 1, flattened + 1L));
            return layers;
        }
    }

    /// <summary>Total trainable parameters (batch norm counts gamma and beta).</summary>
    public long ParameterCount => Layers.Sum(l => l.Parameters);

    /// <summary>Input positions (Height x Width).</summary>
    internal int Positions => Height * Width;

    /// <summary>Channels after the last hidden layer.</summary>
    internal int LastChannels => HiddenChannels.Count == 0 ? InputChannels : HiddenChannels[^1];

    /// <summary>Inputs of the dense layer.</summary>
    internal int FlattenedWidth => Positions * LastChannels;

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
        if (!Enum.IsDefined(Activation))
        {
            throw new ArgumentException($"Unknown activation {Activation}.");
        }
        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentException($"Dropout must be in [0, 1), got {Dropout}.");
        }
    }
}
