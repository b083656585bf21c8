using System.ComponentModel.DataAnnotations;
using ModelService.Api.Training;
using ModelService.Model.Network;
using ModelService.Model.Sweeps;
using ModelService.Model.Training;

namespace ModelService.Api.Sweeps;

/// <summary>What to sweep: a <see cref="Base"/> training request and either a <see cref="Grid"/> or a
/// <see cref="Random"/> search over some of its fields. Each trial is the base with the swept fields replaced; the
/// trials are scored on <see cref="Folds"/>-fold cross-validation, or on the base's validationFraction without folds.</summary>
internal sealed record SweepRequest
{
    public const int MaxFolds = 100;
    public const int MaxKeep = 10_000;

    /// <summary>Completes "'field' ..." in a problem's errors: {1} and {2} are the range's bounds.</summary>
    public const string RangeMessage = "must be between {1} and {2}";

    /// <summary>The dataset (required here or in <see cref="Base"/>).</summary>
    public string? DatasetId { get; init; }

    /// <summary>The numeric column to predict (required here or in <see cref="Base"/>).</summary>
    public string? Target { get; init; }

    /// <summary>Feature columns; every other column when left out.</summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>Any training-request field; what the trials share. Its activate is not used: see <see cref="ActivateBest"/>.</summary>
    public TrainingRequest? Base { get; init; }

    public SweepGrid? Grid { get; init; }

    public SweepRandom? Random { get; init; }

    /// <summary>k-fold cross-validation; null scores each trial on the base's validationFraction.</summary>
    [Range(CrossValidationFold.MinimumCount, MaxFolds, ErrorMessage = RangeMessage)]
    public int? Folds { get; init; }

    // The fields with defaults have setters: System.Text.Json's source generator sets every init-only property at
    // construction, a missing one to default(T), which would override these initialisers.
    public SweepMetric Metric { get; set; } = SweepMetric.Rmse;

    /// <summary>How many of the best trials become models.</summary>
    [Range(1, MaxKeep, ErrorMessage = RangeMessage)]
    public int Keep { get; set; } = 1;

    /// <summary>Make the best trial's model the active one.</summary>
    public bool ActivateBest { get; set; }
}

/// <summary>Every combination of the listed values (the first field varies slowest).</summary>
internal sealed record SweepGrid
{
    public IReadOnlyList<double>? LearningRate { get; init; }

    public IReadOnlyList<double>? WeightDecay { get; init; }

    public IReadOnlyList<IReadOnlyList<int>>? HiddenChannels { get; init; }

    public IReadOnlyList<Activation>? Activation { get; init; }

    public IReadOnlyList<double>? Dropout { get; init; }

    public IReadOnlyList<int>? BatchSize { get; init; }

    public IReadOnlyList<OptimizerKind>? Optimizer { get; init; }

    public IReadOnlyList<LearningRateSchedule>? LearningRateSchedule { get; init; }

    public IReadOnlyList<int>? Epochs { get; init; }

    public IReadOnlyList<int>? Seed { get; init; }
}

/// <summary><see cref="Trials"/> draws: learningRate and weightDecay log-uniform in [min, max], dropout uniform, epochs a
/// uniform integer, the listed fields one of their values; <see cref="Seed"/> seeds the draws.</summary>
internal sealed record SweepRandom
{
    [Range(1, int.MaxValue, ErrorMessage = SweepRequest.RangeMessage)]
    public int Trials { get; init; }

    public int Seed { get; init; }

    public SweepInterval? LearningRate { get; init; }

    public SweepInterval? WeightDecay { get; init; }

    public SweepInterval? Dropout { get; init; }

    public SweepIntInterval? Epochs { get; init; }

    public IReadOnlyList<IReadOnlyList<int>>? HiddenChannels { get; init; }

    public IReadOnlyList<Activation>? Activation { get; init; }

    public IReadOnlyList<int>? BatchSize { get; init; }

    public IReadOnlyList<OptimizerKind>? Optimizer { get; init; }
}

internal sealed record SweepInterval(double Min, double Max);

internal sealed record SweepIntInterval(int Min, int Max);
