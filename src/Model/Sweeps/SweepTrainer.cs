using ModelService.Model.Data;
using ModelService.Model.Training;
using ModelService.Model.Training.Batched;

namespace ModelService.Model.Sweeps;

/// <summary>Trains a sweep's trials (each on every fold) with <see cref="BatchedTrainer"/> and ranks them.</summary>
public static class SweepTrainer
{
    /// <summary>
    /// Trains every trial on every fold (or once on its validation split), stacking the runs that can share a computation,
    /// and scores each trial by <see cref="SweepSpec.Metric"/> on its validation rows, averaged over the folds. A trial
    /// whose run diverges fails on its own. Calls <paramref name="onEpoch"/> after each run's epoch and
    /// <paramref name="onRunFinished"/> as soon as a run has its model (or has failed).
    /// </summary>
    /// <exception cref="ArgumentException">The spec has no trials, fewer than 2 folds, a trial without validation rows
    /// (no folds and a validation fraction of 0), or a trial that does not fit the table.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public static SweepResult Train(
        DataTable data, SweepSpec spec, Action<TrialProgress>? onEpoch, Action<TrialRunFinished>? onRunFinished, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(spec);
        var runs = Runs(spec);
        var results = BatchedTrainer.Train(data, runs.Select(r => r.Run).ToArray(),
            onEpoch is null ? null : p => onEpoch(new TrialProgress(runs[p.Run].Trial, runs[p.Run].Run.Fold, p.Progress)),
            onRunFinished is null ? null : r => onRunFinished(new TrialRunFinished(runs[r.Index].Trial, r)), ct);

        var trials = spec.Trials.Select((settings, trial) =>
        {
            var own = results.Where((_, i) => runs[i].Trial == trial).ToArray();
            var failed = own.FirstOrDefault(r => r.Model is null);
            if (failed is not null)
            {
                return new TrialResult(trial, settings, own, null, null, failed.Error);
            }
            var scores = own.Select(r => spec.Metric.Of(r.Model!.Manifest.Metrics.Validation!)).ToArray();
            return new TrialResult(trial, settings, own, scores.Average(), SampleStandardDeviation(scores), null);
        }).ToArray();
        return new SweepResult(spec.Metric, trials);
    }

    /// <summary>As <see cref="Train(DataTable, SweepSpec, Action{TrialProgress}?, Action{TrialRunFinished}?, CancellationToken)"/>
    /// without a callback per finished run.</summary>
    public static SweepResult Train(DataTable data, SweepSpec spec, Action<TrialProgress>? onEpoch, CancellationToken ct) =>
        Train(data, spec, onEpoch, onRunFinished: null, ct);

    private static (int Trial, TrainingRun Run)[] Runs(SweepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec.Trials);
        if (spec.Trials.Count == 0)
        {
            throw new ArgumentException("A sweep needs at least one trial.", nameof(spec));
        }
        if (spec.Folds is < CrossValidationFold.MinimumCount)
        {
            throw new ArgumentException($"folds must be at least {CrossValidationFold.MinimumCount}, got {spec.Folds}.", nameof(spec));
        }
        if (!Enum.IsDefined(spec.Metric))
        {
            throw new ArgumentException($"Unknown metric {spec.Metric}.", nameof(spec));
        }
        CrossValidationFold?[] folds = spec.Folds is { } k ? [.. CrossValidationFold.All(k)] : [null];
        return spec.Trials.SelectMany((trial, index) =>
        {
            ArgumentNullException.ThrowIfNull(trial);
            if (spec.Folds is null && trial.Options.ValidationFraction <= 0)
            {
                throw new ArgumentException(
                    $"Trial {index} has no validation rows to score it: give folds or a validationFraction above 0.", nameof(spec));
            }
            var training = new TrainingRequestSpec(spec.Target, spec.Features, trial.Network, trial.Options);
            return folds.Select(fold => (index, new TrainingRun(training, fold)));
        }).ToArray();
    }

    private static double SampleStandardDeviation(double[] values)
    {
        if (values.Length < 2)
        {
            return 0;
        }
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }
}
