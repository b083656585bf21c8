using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Network;
using TorchSharp;

namespace ModelService.Model.Training;

/// <summary>Trains a 1x1-convolution regressor on a table or on tensor data.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains deterministically for <see cref="TrainingOptions.Seed"/>: drops rows whose target is missing, splits the rest
    /// (shuffled by the seed) into training and validation rows, fits the preprocessing on the training rows only and
    /// minimises the mean squared error on the standardised target. Calls <paramref name="onEpoch"/> after each epoch.
    /// Sets LibTorch's process-wide thread count to <see cref="TrainingOptions.Threads"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The spec does not fit the table or an option is out of range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled; checked before every batch.</exception>
    /// <exception cref="InvalidOperationException">The loss stopped being a finite number (training diverged).</exception>
    public static TrainedModel Train(DataTable data, TrainingRequestSpec spec, Action<EpochProgress>? onEpoch, CancellationToken ct) =>
        Train(data, spec, onEpoch, onBatch: null, ct);

    /// <summary>As <see cref="Train(DataTable, TrainingRequestSpec, Action{EpochProgress}?, CancellationToken)"/>, and calls
    /// <paramref name="onBatch"/> after every optimiser step with the number of steps taken so far.</summary>
    public static TrainedModel Train(
        DataTable data, TrainingRequestSpec spec, Action<EpochProgress>? onEpoch, Action<int>? onBatch, CancellationToken ct) =>
        Train(data, spec, fold: null, onEpoch, onBatch, ct);

    /// <summary>As <see cref="Train(DataTable, TrainingRequestSpec, Action{EpochProgress}?, Action{int}?, CancellationToken)"/>,
    /// validating on cross-validation <paramref name="fold"/> instead of <see cref="TrainingOptions.ValidationFraction"/>
    /// of the rows when it is given.</summary>
    public static TrainedModel Train(
        DataTable data, TrainingRequestSpec spec, CrossValidationFold? fold, Action<EpochProgress>? onEpoch, Action<int>? onBatch,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(spec);
        Validate(data, spec);
        fold?.Validate();
        ct.ThrowIfCancellationRequested();
        torch.set_num_threads(spec.Options.Threads);

        using var run = PreparedRun.Create(data, spec, fold);
        var outcome = TrainingLoop.Run(run.Module, run.Encoded, spec.Options, run.Generator, onEpoch, onBatch, ct);
        return run.Finish(outcome);
    }

    /// <summary>
    /// Trains on tensor samples as <see cref="Train(DataTable, TrainingRequestSpec, Action{EpochProgress}?, CancellationToken)"/>
    /// trains on a table, with the same options and callbacks: drops samples whose target has a NaN, splits the rest by the
    /// seed, fits per-channel standardisation (a missing value takes its channel's mean) and the target's scaling on the
    /// training samples, and trains a network of the data's [H, W, C] shape with the spec's head, by default flatten-dense
    /// for one target per sample and per-position for a target per position. The loss is the mean squared error over every
    /// target value. <see cref="TrainingRequestSpec.Target"/> and <see cref="TrainingRequestSpec.Features"/> are not used.
    /// </summary>
    /// <exception cref="ArgumentException">The head does not fit the target's shape or an option is out of range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled; checked before every batch.</exception>
    /// <exception cref="InvalidOperationException">The loss stopped being a finite number (training diverged).</exception>
    public static TrainedModel Train(TensorData data, TrainingRequestSpec spec, Action<EpochProgress>? onEpoch, CancellationToken ct) =>
        Train(data, spec, onEpoch, onBatch: null, ct);

    /// <summary>As <see cref="Train(TensorData, TrainingRequestSpec, Action{EpochProgress}?, CancellationToken)"/>, and calls
    /// <paramref name="onBatch"/> after every optimiser step with the number of steps taken so far.</summary>
    public static TrainedModel Train(
        TensorData data, TrainingRequestSpec spec, Action<EpochProgress>? onEpoch, Action<int>? onBatch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(spec);
        Validate(data, spec);
        ct.ThrowIfCancellationRequested();
        torch.set_num_threads(spec.Options.Threads);

        using var run = PreparedRun.Create(data, spec);
        var outcome = TrainingLoop.Run(run.Module, run.Encoded, spec.Options, run.Generator, onEpoch, onBatch, ct);
        return run.Finish(outcome);
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the head does not fit the data's target or an option is out of
    /// range.</summary>
    internal static void Validate(TensorData data, TrainingRequestSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec.Network);
        ArgumentNullException.ThrowIfNull(spec.Options);
        var head = spec.Network.HeadFor(data.PerPositionTarget);
        if (head == Head.PerPosition && !data.PerPositionTarget)
        {
            throw new ArgumentException(
                "The per-position head predicts a value per position; this data has one target per sample ([N]): use flatten-dense.",
                nameof(spec));
        }
        if (head == Head.FlattenDense && data.PerPositionTarget)
        {
            throw new ArgumentException(
                "The flatten-dense head predicts one value per sample; this data has a target per position ([N, H, W]): use per-position.",
                nameof(spec));
        }
        new NetworkSpec(data.Height, data.Width, data.Channels, spec.Network.HiddenChannels, spec.Network.Activation, spec.Network.Dropout,
            spec.Network.BatchNorm, head).Validate();
        ValidateOptions(spec);
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the spec does not fit the table or an option is out of range.</summary>
    internal static void Validate(DataTable data, TrainingRequestSpec spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.Target);
        ArgumentNullException.ThrowIfNull(spec.Features);
        ArgumentNullException.ThrowIfNull(spec.Network);
        ArgumentNullException.ThrowIfNull(spec.Options);
        if (!data.Contains(spec.Target))
        {
            throw new ArgumentException($"The data has no target column '{spec.Target}'.", nameof(spec));
        }
        if (data[spec.Target].Type != ColumnType.Numeric)
        {
            throw new ArgumentException($"The target column '{spec.Target}' must be numeric.", nameof(spec));
        }
        if (spec.Features.Count == 0)
        {
            throw new ArgumentException("At least one feature is needed.", nameof(spec));
        }
        if (spec.Features.Distinct(StringComparer.Ordinal).Count() != spec.Features.Count)
        {
            throw new ArgumentException("A feature is listed twice.", nameof(spec));
        }
        var absent = spec.Features.FirstOrDefault(f => !data.Contains(f));
        if (absent is not null)
        {
            throw new ArgumentException($"The data has no feature column '{absent}'.", nameof(spec));
        }
        if (spec.Features.Contains(spec.Target, StringComparer.Ordinal))
        {
            throw new ArgumentException($"The target '{spec.Target}' cannot also be a feature.", nameof(spec));
        }
        if (spec.Network.Head == Head.PerPosition)
        {
            throw new ArgumentException(
                "The per-position head needs tensor data with a target per position; a table has one target per row.", nameof(spec));
        }
        new NetworkSpec(1, 1, 1, spec.Network.HiddenChannels, spec.Network.Activation, spec.Network.Dropout, spec.Network.BatchNorm).Validate();
        ValidateOptions(spec);
    }

    private static void ValidateOptions(TrainingRequestSpec spec)
    {
        var o = spec.Options;
        Require(o.Epochs >= 1, $"epochs must be at least 1, got {o.Epochs}.");
        Require(o.BatchSize >= 1, $"batchSize must be at least 1, got {o.BatchSize}.");
        Require(double.IsFinite(o.LearningRate) && o.LearningRate > 0, $"learningRate must be positive, got {o.LearningRate}.");
        Require(double.IsFinite(o.WeightDecay) && o.WeightDecay >= 0, $"weightDecay must be zero or positive, got {o.WeightDecay}.");
        Require(o.ValidationFraction is >= 0 and < 1, $"validationFraction must be in [0, 1), got {o.ValidationFraction}.");
        Require(o.EarlyStoppingPatience is null or >= 1, $"earlyStoppingPatience must be at least 1, got {o.EarlyStoppingPatience}.");
        Require(o.Threads >= 1, $"threads must be at least 1, got {o.Threads}.");
        Require(Enum.IsDefined(o.Optimizer), $"Unknown optimizer {o.Optimizer}.");
        Require(Enum.IsDefined(o.LearningRateSchedule), $"Unknown learning rate schedule {o.LearningRateSchedule}.");
        Require(!spec.Network.BatchNorm || o.BatchSize >= 2, "Batch normalisation needs a batchSize of at least 2.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
