using ModelService.Model.Artifacts;

namespace ModelService.Model.Training;

/// <summary>
/// One run's epoch bookkeeping, shared by the single and the batched training loop: the loss history, the divergence
/// check, and early stopping (the best epoch by validation loss, or training loss without a validation split, and its
/// weights).
/// </summary>
internal sealed class EpochTracker(TrainingOptions options)
{
    private readonly List<EpochRecord> _history = [];
    private double _best = double.PositiveInfinity;

    public IReadOnlyList<EpochRecord> History => _history;

    public int BestEpoch { get; private set; }

    /// <summary>The best epoch's weights when early stopping is on and they were exported; null otherwise.</summary>
    public IReadOnlyList<NamedTensorData>? BestWeights { get; private set; }

    /// <summary>Records a finished epoch. Returns whether training should stop; calls <paramref name="exportWeights"/> when
    /// this epoch is the best so far under early stopping.</summary>
    /// <exception cref="InvalidOperationException">A loss is not a finite number (training diverged).</exception>
    public bool Record(int epoch, double trainLoss, double? validationLoss, Func<IReadOnlyList<NamedTensorData>> exportWeights)
    {
        if (!double.IsFinite(trainLoss) || validationLoss is { } v && !double.IsFinite(v))
        {
            throw new InvalidOperationException(
                $"Training diverged in epoch {epoch} (the loss is not a finite number); try a lower learning rate.");
        }
        _history.Add(new EpochRecord(epoch, trainLoss, validationLoss));
        if (options.EarlyStoppingPatience is not { } patience)
        {
            BestEpoch = epoch;
            return false;
        }
        var monitored = validationLoss ?? trainLoss;
        if (monitored < _best)
        {
            _best = monitored;
            BestEpoch = epoch;
            BestWeights = exportWeights();
            return false;
        }
        return epoch - BestEpoch >= patience;
    }

    /// <summary>Whether the network must be rolled back to <see cref="BestWeights"/> (it holds a later epoch's weights).</summary>
    public bool MustRestoreBest => BestWeights is not null && BestEpoch != _history.Count;
}
