namespace ModelService.Model.Network;

/// <summary>One layer of the network as reported to users.</summary>
/// <param name="Type">"conv1x1", "batchnorm", "flatten" or "dense".</param>
/// <param name="InChannels">Input channels (for flatten and dense: input features).</param>
/// <param name="OutChannels">Output channels (for flatten: flattened features; for dense: 1).</param>
/// <param name="Parameters">Trainable parameters of this layer.</param>
/// <param name="Activation">Wire name of the activation that follows a conv1x1 layer; null otherwise.</param>
public sealed record LayerInfo(string Type, int InChannels, int OutChannels, long Parameters, string? Activation = null);

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
    public IReadOnlyList<LayerInfo> Layers => throw new NotImplementedException();

    /// <summary>Total trainable parameters (batch norm counts gamma and beta).</summary>
    public long ParameterCount => throw new NotImplementedException();
}
