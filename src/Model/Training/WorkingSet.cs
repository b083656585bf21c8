using ModelService.Model.Network;

namespace ModelService.Model.Training;

/// <summary>What a training job holds in memory at its peak, in bytes, by part.</summary>
/// <param name="Table">The loaded data set: 8 bytes per cell (a double, or a reference to an interned label).</param>
/// <param name="EncodedInputs">Rows x encoded width (one-hot columns included) as float32, once managed and once as a
/// tensor.</param>
/// <param name="Activations">The largest batch (training batch or evaluation chunk) through every layer: its inputs,
/// and pre-activations, activations and their gradients per hidden channel.</param>
/// <param name="Parameters">Weights, gradients, optimiser state (two moments for Adam and AdamW, one for SGD's
/// momentum) and the best-epoch copy.</param>
public sealed record WorkingSetEstimate(long Table, long EncodedInputs, long Activations, long Parameters)
{
    /// <summary>The sum of the parts.</summary>
    public long TotalBytes => Table + EncodedInputs + Activations + Parameters;

    /// <summary>Estimates a job before anything is allocated. <paramref name="inputWidth"/> is the encoded width (a
    /// categorical feature counts one column per distinct value); all arithmetic saturates rather than overflowing.</summary>
    public static WorkingSetEstimate For(long rows, int tableColumns, long inputWidth, NetworkSpec network, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        var hidden = network.HiddenChannels.Sum(c => (long)c);
        var batch = Math.Min(rows, Math.Max(options.BatchSize, TrainingLoop.EvaluationChunk));
        var optimizerCopies = options.Optimizer == OptimizerKind.Sgd ? 1 : 2;
        return new WorkingSetEstimate(
            Table: Times(rows, tableColumns, 8),
            EncodedInputs: Times(rows, inputWidth, 2 * sizeof(float)),
            Activations: Times(batch, Add(inputWidth, Times(hidden, 4, 1)), sizeof(float)),
            Parameters: Times(network.ParameterCount, 3 + optimizerCopies, sizeof(float)));
    }

    /// <summary>Estimates a job on <paramref name="samples"/> tensor samples of <paramref name="network"/>'s [H, W, C] shape
    /// before anything is allocated: <see cref="Table"/> is then the loaded x (float32) and y (float64, one value per
    /// sample or per position), <see cref="EncodedInputs"/> the standardised x (managed and as a tensor) and targets, and
    /// the activations those of the largest batch's positions.</summary>
    public static WorkingSetEstimate ForTensor(long samples, bool perPositionTarget, NetworkSpec network, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        long positions = network.Positions;
        var sampleSize = Times(positions, network.InputChannels, 1);
        var targets = perPositionTarget ? positions : 1;
        var hidden = network.HiddenChannels.Sum(c => (long)c);
        var batch = Math.Min(samples, Math.Max(options.BatchSize, TrainingLoop.EvaluationRows(network)));
        var optimizerCopies = options.Optimizer == OptimizerKind.Sgd ? 1 : 2;
        return new WorkingSetEstimate(
            Table: Add(Times(samples, sampleSize, sizeof(float)), Times(samples, targets, sizeof(double))),
            // Per target value: raw and standardised for training (a double and two floats), then the fit's copy or the
            // metrics' predictions (a double and a float).
            EncodedInputs: Add(Times(samples, sampleSize, 2 * sizeof(float)), Times(samples, targets, (2 * sizeof(double)) + (3 * sizeof(float)))),
            Activations: Times(Times(batch, positions, 1), Add(network.InputChannels, Times(hidden, 4, 1)), sizeof(float)),
            Parameters: Times(network.ParameterCount, 3 + optimizerCopies, sizeof(float)));
    }

    private static long Times(long a, long b, long c)
    {
        var product = (decimal)a * b * c;
        return product > long.MaxValue ? long.MaxValue : (long)product;
    }

    private static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
