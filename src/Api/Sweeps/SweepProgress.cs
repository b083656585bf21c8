using System.Text.Json.Nodes;
using ModelService.Api.Json;
using ModelService.Api.Training;

namespace ModelService.Api.Sweeps;

/// <summary>Turns a stored sweep into what the API shows: each trial's status and histories, and the leaderboard of the
/// trials whose runs have all finished, computed from the runs' scores as recorded (so it grows while the sweep runs).</summary>
internal static class SweepProgress
{
    public static int PlannedEpochs(SweepPlan plan) => plan.Trials.Sum(t => t.Epochs) * plan.RunsPerTrial;

    public static Sweep ToView(SweepJob job)
    {
        var plan = job.Plan;
        var outcome = job.Outcome ?? SweepOutcome.Empty(plan);
        var byRun = job.Epochs.GroupBy(e => e.Run).ToDictionary(g => g.Key, g => g.Select(e => new EpochLoss(e.Epoch, e.TrainLoss, e.ValidationLoss)).ToList());
        var trials = new List<TrialSummary>(plan.Trials.Count);
        for (var t = 0; t < plan.Trials.Count; t++)
        {
            var runs = Enumerable.Range(t * plan.RunsPerTrial, plan.RunsPerTrial).ToArray();
            var histories = runs.Select(r => new TrialRun(plan.Request.Folds is null ? null : r - runs[0],
                byRun.TryGetValue(r, out var history) ? history : [])).ToArray();
            var (score, spread) = Score(outcome, runs);
            var error = runs.Select(r => outcome.RunErrors[r]).FirstOrDefault(e => e is not null);
            var status = error is not null ? JobStatus.Failed
                : score is not null ? JobStatus.Succeeded
                : job.Status.IsFinished() ? JobStatus.Cancelled
                : histories.Any(h => h.History.Count > 0) ? JobStatus.Running
                : JobStatus.Queued;
            trials.Add(new TrialSummary(t, Settings(plan, t), status, histories.Sum(h => h.History.Count),
                plan.Trials[t].Epochs * plan.RunsPerTrial, histories, score, spread, error, outcome.TrialModels[t]));
        }
        return new Sweep(job.Id, job.Status, job.CreatedAt, job.StartedAt, job.FinishedAt, plan.Request, job.Progress, trials,
            Leaderboard(plan, outcome), job.BestModelId, job.Error, job.Attempts, job.Worker);
    }

    /// <summary>The finished trials, lowest mean score first (ties by trial index).</summary>
    public static IReadOnlyList<LeaderboardEntry> Leaderboard(SweepPlan plan, SweepOutcome outcome)
    {
        var entries = new List<(int Trial, double Score, double Spread, double[] Folds)>();
        for (var t = 0; t < plan.Trials.Count; t++)
        {
            var runs = Enumerable.Range(t * plan.RunsPerTrial, plan.RunsPerTrial).ToArray();
            if (Score(outcome, runs) is ({ } score, { } spread))
            {
                entries.Add((t, score, spread, runs.Select(r => outcome.RunScores[r]!.Value).ToArray()));
            }
        }
        return [.. entries.OrderBy(e => e.Score).ThenBy(e => e.Trial)
            .Select((e, rank) => new LeaderboardEntry(rank + 1, e.Trial, Settings(plan, e.Trial), e.Score, e.Spread, e.Folds,
                outcome.TrialModels[e.Trial]))];
    }

    /// <summary>The mean and the sample standard deviation of the runs' scores, once every run has one.</summary>
    public static (double? Score, double? Spread) Score(SweepOutcome outcome, IReadOnlyList<int> runs)
    {
        if (runs.Any(r => outcome.RunScores[r] is null || outcome.RunErrors[r] is not null))
        {
            return (null, null);
        }
        var scores = runs.Select(r => outcome.RunScores[r]!.Value).ToArray();
        var mean = scores.Average();
        var spread = scores.Length < 2 ? 0 : Math.Sqrt(scores.Sum(s => (s - mean) * (s - mean)) / (scores.Length - 1));
        return (mean, spread);
    }

    private static JsonObject Settings(SweepPlan plan, int trial)
    {
        var node = System.Text.Json.JsonSerializer.SerializeToNode(plan.Trials[trial], ApiJsonContext.Default.TrainingRequest)!.AsObject();
        return new JsonObject(plan.Varied.Select(field => KeyValuePair.Create(field, node[field]?.DeepClone())));
    }
}
