using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ModelService.Api.Training;
using ModelService.Model.Network;
using ModelService.Model.Sweeps;
using ModelService.Model.Training;

namespace ModelService.Api.Sweeps;

/// <summary>A validated sweep: the request with its base normalised, every trial's full training request, and the
/// fields the trials vary. Runs are numbered trial x runs-per-trial + fold.</summary>
internal sealed record SweepPlan(SweepRequest Request, IReadOnlyList<TrainingRequest> Trials, IReadOnlyList<string> Varied)
{
    [JsonIgnore]
    public int RunsPerTrial => Request.Folds ?? 1;

    [JsonIgnore]
    public int Runs => Trials.Count * RunsPerTrial;

    [JsonIgnore]
    public string DatasetId => Trials[0].DatasetId!;
}

/// <summary>One finished epoch of one run.</summary>
internal sealed record RunEpoch(int Run, int Epoch, double TrainLoss, double? ValidationLoss);

/// <summary>What the worker has recorded so far: each run's score on its validation rows or its error, and the model
/// kept for each trial (null for the others).</summary>
internal sealed record SweepOutcome(IReadOnlyList<double?> RunScores, IReadOnlyList<string?> RunErrors, IReadOnlyList<string?> TrialModels)
{
    public static SweepOutcome Empty(SweepPlan plan) => new(new double?[plan.Runs], new string?[plan.Runs], new string?[plan.Trials.Count]);
}

/// <summary>A sweep as stored: a row of the job queue whose payload is the plan.</summary>
internal sealed record SweepJob(
    string Id,
    JobStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    SweepPlan Plan,
    JobProgress Progress,
    IReadOnlyList<RunEpoch> Epochs,
    SweepOutcome? Outcome,
    string? BestModelId,
    string? Error,
    int Attempts,
    string? Worker);

/// <summary>A sweep as the API shows it. <see cref="Progress"/> counts epochs over every run; <see cref="Leaderboard"/>
/// holds the trials whose runs have all finished, best first.</summary>
internal sealed record Sweep(
    string Id,
    JobStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    SweepRequest Request,
    JobProgress Progress,
    IReadOnlyList<TrialSummary> Trials,
    IReadOnlyList<LeaderboardEntry> Leaderboard,
    string? BestModelId,
    string? Error,
    int Attempts,
    string? Worker);

/// <summary>One trial: the values it sets for the swept fields, its status, and each run's loss history (one run per
/// fold, or one without folds).</summary>
internal sealed record TrialSummary(
    int Trial, JsonObject Settings, JobStatus Status, int Epoch, int Epochs, IReadOnlyList<TrialRun> Runs, double? Score, double? Spread,
    string? Error, string? ModelId);

internal sealed record TrialRun(int? Fold, IReadOnlyList<EpochLoss> History);

/// <summary>A finished trial ranked by the metric: the mean over its folds and the sample standard deviation.</summary>
internal sealed record LeaderboardEntry(int Rank, int Trial, JsonObject Settings, double Score, double Spread, IReadOnlyList<double> FoldScores, string? ModelId);

/// <summary>The sweep's events: a run's epoch, a trial's end, the sweep's end.</summary>
internal sealed record TrialEpochEvent(int Trial, int? Fold, int Epoch, int Epochs, double TrainLoss, double? ValidationLoss);

internal sealed record TrialEndEvent(int Trial, JobStatus Status, double? Score, double? Spread, string? Error);

internal sealed record SweepEndEvent(JobStatus Status, string? BestModelId, string? Error, IReadOnlyList<LeaderboardEntry> Leaderboard);
