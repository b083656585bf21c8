using ModelService.Model.Artifacts;
using ModelService.Model.Data;

namespace ModelService.Model.Training;

/// <summary>Trains a 1x1-convolution regressor on a table.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains deterministically for <see cref="TrainingOptions.Seed"/>: drops rows whose target is missing, splits the rest
    /// (shuffled by the seed) into training and validation rows, fits the preprocessing on the training rows only and
    /// minimises the mean squared error on the standardised target. Calls <paramref name="onEpoch"/> after each epoch.
    /// </summary>
    /// <exception cref="ArgumentException">The spec does not fit the table or an option is out of range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled; checked before every batch.</exception>
    public static TrainedModel Train(DataTable data, TrainingRequestSpec spec, Action<EpochProgress>? onEpoch, CancellationToken ct) =>
        Train(data, spec, onEpoch, onBatch: null, ct);

    /// <summary>As <see cref="Train(DataTable, TrainingRequestSpec, Action{EpochProgress}?, CancellationToken)"/>, and calls
    /// <paramref name="onBatch"/> after every optimiser step with the number of steps taken so far.</summary>
    public static TrainedModel Train(
        DataTable data, TrainingRequestSpec spec, Action<EpochProgress>? onEpoch, Action<int>? onBatch, CancellationToken ct) =>
        throw new NotImplementedException();
}
