using System.Text.Json.Serialization;
using ModelService.Model.Network;
using ModelService.Model.Serialization;

namespace ModelService.Model.Training;

/// <summary>The optimiser that updates the network's weights.</summary>
[JsonConverter(typeof(WireEnumConverter<OptimizerKind>))]
public enum OptimizerKind
{
    /// <summary>Adam (weight decay added to the gradient, L2 style).</summary>
    [JsonStringEnumMemberName("adam")]
    Adam,

    /// <summary>AdamW (decoupled weight decay).</summary>
    [JsonStringEnumMemberName("adamw")]
    AdamW,

    /// <summary>Plain stochastic gradient descent (weight decay added to the gradient).</summary>
    [JsonStringEnumMemberName("sgd")]
    Sgd,
}

/// <summary>How the learning rate moves over a run's steps.</summary>
[JsonConverter(typeof(WireEnumConverter<LearningRateSchedule>))]
public enum LearningRateSchedule
{
    /// <summary>The learning rate at every step.</summary>
    [JsonStringEnumMemberName("constant")]
    Constant,

    /// <summary>Cosine annealing without restarts: step t of T (counted from 0) takes the learning rate times
    /// (1 + cos(pi t / T)) / 2, from the full rate at the first step towards zero at the last. T is every step the run
    /// would take (epochs times batches per epoch), so early stopping does not shorten the curve.</summary>
    [JsonStringEnumMemberName("cosine")]
    Cosine,
}

/// <summary>What a <see cref="LearningRateSchedule"/> means for one step; the one place the optimisers read it from.</summary>
public static class LearningRateSchedules
{
    /// <summary>The factor on the learning rate at step <paramref name="step"/> (0 for the first) of
    /// <paramref name="totalSteps"/>.</summary>
    public static double Factor(this LearningRateSchedule schedule, long step, long totalSteps) => schedule switch
    {
        LearningRateSchedule.Cosine => 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step, totalSteps) / Math.Max(1, totalSteps))),
        _ => 1,
    };

    /// <summary>The steps of a run that trains every epoch on <paramref name="trainRows"/> rows.</summary>
    public static long TotalSteps(TrainingOptions options, int trainRows) =>
        (long)options.Epochs * Math.Max(1, (trainRows + options.BatchSize - 1) / options.BatchSize);
}

/// <summary>The network's hidden layers and head; input and output sizes follow from the data.</summary>
/// <param name="HiddenChannels">Output channels of each hidden 1x1 convolution.</param>
/// <param name="Activation">Activation after every hidden convolution.</param>
/// <param name="Dropout">Dropout probability in [0, 1).</param>
/// <param name="BatchNorm">Batch normalisation after every hidden convolution.</param>
/// <param name="Head">What follows the hidden layers; null takes the one the target asks for: flatten-dense for one value
/// per sample (every table), per-position for a value per position.</param>
public sealed record NetworkOptions(
    IReadOnlyList<int> HiddenChannels,
    Activation Activation = Activation.Relu,
    double Dropout = 0,
    bool BatchNorm = false,
    Head? Head = null)
{
    /// <summary>The head for data whose target has a value per position (<paramref name="perPositionTarget"/>) or one
    /// per sample: <see cref="Head"/> when given, else the one that target asks for.</summary>
    public Head HeadFor(bool perPositionTarget) => Head ?? (perPositionTarget ? Network.Head.PerPosition : Network.Head.FlattenDense);

    /// <summary>What a caller that does not choose gets: two hidden layers of 16 and 8 channels, ReLU, no dropout, no batch
    /// normalisation.</summary>
    public static NetworkOptions Default { get; } = new([16, 8]);
}

/// <summary>How to train.</summary>
public sealed record TrainingOptions
{
    /// <summary>What a caller that does not choose gets (the initial values below).</summary>
    public static TrainingOptions Default { get; } = new();

    /// <summary>Maximum number of passes over the training rows.</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>Rows per optimiser step.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Optimiser learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Optimiser kind.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>How the learning rate moves over the run's steps.</summary>
    public LearningRateSchedule LearningRateSchedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>Weight decay (L2 for Adam and SGD, decoupled for AdamW).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Share of rows held out for validation, in [0, 1); 0 trains on every row.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Stop after this many epochs without improvement of the validation loss (the training loss when there is
    /// no validation split) and restore the best weights; null trains every epoch.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>Seed for the split, the initial weights, the shuffles and dropout.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Compute threads used by LibTorch (process-wide setting applied when training starts).</summary>
    public int Threads { get; init; } = 1;
}

/// <summary>What one finished epoch reports.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">Requested epochs.</param>
/// <param name="TrainLoss">Mean squared error on the standardised target over the epoch's training batches.</param>
/// <param name="ValidationLoss">Mean squared error on the standardised target of the validation rows after the epoch;
/// null without a validation split.</param>
/// <param name="Elapsed">Time since training started.</param>
public sealed record EpochProgress(int Epoch, int Epochs, double TrainLoss, double? ValidationLoss, TimeSpan Elapsed);

/// <summary>Regression quality in the target's own units.</summary>
/// <param name="Rmse">Root mean squared error.</param>
/// <param name="Mae">Mean absolute error.</param>
/// <param name="R2">Coefficient of determination.</param>
public sealed record RegressionMetrics(double Rmse, double Mae, double R2);

/// <summary>Everything needed to train one model on a table or on tensor data.</summary>
/// <param name="Target">Numeric target column (tensor data has its target in <c>y</c>: not used).</param>
/// <param name="Features">Feature columns in model order (tensor data has its inputs in <c>x</c>: not used).</param>
/// <param name="Network">Hidden layers.</param>
/// <param name="Options">Training settings.</param>
public sealed record TrainingRequestSpec(string Target, IReadOnlyList<string> Features, NetworkOptions Network, TrainingOptions Options);
