using ModelService.Model.Artifacts;

namespace ModelService.Model.Training.Batched;

/// <summary>One training of a batch: a spec and, for cross-validation, the fold it validates on.</summary>
/// <param name="Spec">What to train; every run of one call shares <see cref="TrainingRequestSpec.Target"/> and
/// <see cref="TrainingRequestSpec.Features"/>.</param>
/// <param name="Fold">The fold held out for validation; null validates on
/// <see cref="TrainingOptions.ValidationFraction"/> of the rows.</param>
public sealed record TrainingRun(TrainingRequestSpec Spec, CrossValidationFold? Fold = null);

/// <summary>The outcome of one run: a model, or why the run failed (the other runs of its group are unaffected).</summary>
/// <param name="Index">The run's index in the list given to <see cref="BatchedTrainer.Train(Data.DataTable, IReadOnlyList{TrainingRun}, Action{RunProgress}?, CancellationToken)"/>.</param>
/// <param name="Run">The run, as given.</param>
/// <param name="Model">The trained model (history, metrics and weights as <see cref="Trainer"/> would record them); null
/// when the run failed.</param>
/// <param name="Error">Why the run failed (it diverged); null when it succeeded.</param>
/// <param name="Group">The index of the stacked group the run trained in.</param>
/// <param name="GroupSize">How many runs that group started with.</param>
public sealed record RunResult(int Index, TrainingRun Run, TrainedModel? Model, string? Error, int Group, int GroupSize);

/// <summary>An epoch finished by one run of a batch.</summary>
/// <param name="Run">The run's index in the list given to <see cref="BatchedTrainer.Train(Data.DataTable, IReadOnlyList{TrainingRun}, Action{RunProgress}?, CancellationToken)"/>.</param>
/// <param name="Progress">The epoch, as the single trainer reports it (elapsed time is the group's).</param>
public sealed record RunProgress(int Run, EpochProgress Progress);
