using ModelService.Model.Training;
using ModelService.Model.Training.Batched;

namespace ModelService.Model.Sweeps;

/// <summary>One configuration a sweep tries.</summary>
/// <param name="Network">Hidden layers.</param>
/// <param name="Options">Training settings; <see cref="TrainingOptions.ValidationFraction"/> is used only without folds.</param>
public sealed record SweepTrial(NetworkOptions Network, TrainingOptions Options);

/// <summary>A set of trials on one table, scored on held-out rows.</summary>
/// <param name="Target">Numeric target column.</param>
/// <param name="Features">Feature columns in model order.</param>
/// <param name="Trials">The configurations to try.</param>
/// <param name="Folds">k for k-fold cross-validation (at least 2): each trial trains k times, validating on each fold
/// once; null validates on each trial's <see cref="TrainingOptions.ValidationFraction"/>.</param>
/// <param name="Metric">The validation metric that ranks the trials.</param>
public sealed record SweepSpec(
    string Target, IReadOnlyList<string> Features, IReadOnlyList<SweepTrial> Trials, int? Folds = null, SweepMetric Metric = SweepMetric.Rmse);

/// <summary>One trial's outcome.</summary>
/// <param name="Trial">The trial's index in <see cref="SweepSpec.Trials"/>.</param>
/// <param name="Settings">The trial, as given.</param>
/// <param name="Runs">One run per fold (one run without folds), each with its model or error.</param>
/// <param name="Score">The metric on the validation rows, averaged over the folds; null when a run failed.</param>
/// <param name="Spread">The sample standard deviation of the metric over the folds (0 for one run); null when a run
/// failed.</param>
/// <param name="Error">The first failed run's error; null when every run succeeded.</param>
public sealed record TrialResult(int Trial, SweepTrial Settings, IReadOnlyList<RunResult> Runs, double? Score, double? Spread, string? Error);

/// <summary>A sweep's outcome.</summary>
/// <param name="Metric">The metric that ranks the trials.</param>
/// <param name="Trials">Every trial, in the order given.</param>
public sealed record SweepResult(SweepMetric Metric, IReadOnlyList<TrialResult> Trials)
{
    /// <summary>The trials best first (lowest <see cref="TrialResult.Score"/>; ties by trial index), failed trials last.</summary>
    public IReadOnlyList<TrialResult> Leaderboard { get; } =
        Trials.OrderBy(t => t.Score is null).ThenBy(t => t.Score).ThenBy(t => t.Trial).ToArray();
}

/// <summary>An epoch finished by one run of a sweep.</summary>
/// <param name="Trial">The trial's index.</param>
/// <param name="Fold">The fold the run validates on; null without folds.</param>
/// <param name="Progress">The epoch.</param>
public sealed record TrialProgress(int Trial, CrossValidationFold? Fold, EpochProgress Progress);

/// <summary>A run of a sweep that has its model or has failed.</summary>
/// <param name="Trial">The trial's index.</param>
/// <param name="Result">The run's result; its <see cref="RunResult.Run"/> names the fold.</param>
public sealed record TrialRunFinished(int Trial, RunResult Result);
