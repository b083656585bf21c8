using System.Globalization;
using Microsoft.Extensions.Options;
using ModelService.Api.Datasets;
using ModelService.Api.Models;
using ModelService.Api.Storage;
using ModelService.Api.Training;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Sweeps;
using ModelService.Model.Training.Batched;
using ModelService.Model.Training;

namespace ModelService.Api.Sweeps;

/// <summary>Runs one attempt of a sweep on the calling thread (the training worker's, which holds its lease): trains the
/// trials with <see cref="SweepTrainer"/>, recording each run's epochs and score as they come, then builds the models of
/// the best <see cref="SweepRequest.Keep"/> trials. With folds a kept trial is trained once more on every row (the folds'
/// models each saw only part of them), as GridSearchCV's refit does; without folds its model is the scored run's.
/// Returns the step that records the outcome, which the worker takes once the trials are done.</summary>
internal sealed class SweepRunner(
    IDatasetStore datasets, ISweepStore sweeps, SweepEvents events, ModelRegistry models, IOptions<TrainingQueueOptions> options,
    TimeProvider clock)
{
    public const string SweepIdTag = "sweepId";
    public const string TrialTag = "trial";

    /// <summary>Progress (epochs and the trials' scores) is written at most this often, and once more when training ends.</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    public Func<bool> Run(JobLease lease, CancellationToken cancellationToken)
    {
        var sweep = sweeps.GetSweep(lease.JobId) ?? throw new JobFailedException($"Sweep '{lease.JobId}' no longer exists.");
        var plan = sweep.Plan;
        var data = datasets.Load(plan.DatasetId) ?? throw new JobFailedException($"Dataset '{plan.DatasetId}' no longer exists.");
        var specs = plan.Trials.Select(t => t.ToSpec(options.Value.EffectiveThreads)).ToArray();
        var spec = new SweepSpec(specs[0].Target, specs[0].Features, [.. specs.Select(s => new SweepTrial(s.Network, s.Options))],
            plan.Request.Folds, plan.Request.Metric);

        var scores = new double?[plan.Runs];
        var errors = new string?[plan.Runs];
        var kept = new string?[plan.Trials.Count];
        SweepOutcome Outcome() => new([.. scores], [.. errors], [.. kept]);
        var pending = new List<RunEpoch>();
        var done = 0;
        var lastWrite = clock.GetTimestamp();
        void TryRecord()
        {
            try
            {
                sweeps.RecordSweep(lease, pending, done, Outcome());
                pending.Clear();
            }
            catch (StoreUnavailableException)
            {
                // Training goes on while the store is away; the epochs are written with the next batch.
            }
            lastWrite = clock.GetTimestamp();
        }

        void OnEpoch(TrialProgress progress)
        {
            var run = (progress.Trial * plan.RunsPerTrial) + (progress.Fold?.Index ?? 0);
            var epoch = progress.Progress;
            pending.Add(new RunEpoch(run, epoch.Epoch, epoch.TrainLoss, epoch.ValidationLoss));
            done++;
            events.Publish(lease.JobId, SweepEventItems.Epoch(plan, run, epoch.Epoch, epoch.Epochs, epoch.TrainLoss, epoch.ValidationLoss));
            if (clock.GetElapsedTime(lastWrite) >= ProgressInterval)
            {
                TryRecord();
            }
        }

        void OnRunFinished(TrialRunFinished finished)
        {
            var run = finished.Result.Index;
            if (finished.Result.Model is { } model)
            {
                scores[run] = plan.Request.Metric.Of(model.Manifest.Metrics.Validation!);
            }
            else
            {
                errors[run] = finished.Result.Error ?? "The run failed.";
            }
            var runs = Enumerable.Range(finished.Trial * plan.RunsPerTrial, plan.RunsPerTrial).ToArray();
            if (runs.All(r => scores[r] is not null || errors[r] is not null))
            {
                events.Publish(lease.JobId, SweepEventItems.TrialEnd(finished.Trial, Outcome(), runs));
            }
        }

        SweepResult result;
        try
        {
            result = SweepTrainer.Train(data, spec, OnEpoch, OnRunFinished, cancellationToken);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new JobFailedException(e.Message, e);
        }
        finally
        {
            TryRecord();
        }
        cancellationToken.ThrowIfCancellationRequested();

        var best = result.Leaderboard.Where(t => t.Score is not null).Take(plan.Request.Keep).ToArray();
        if (best.Length == 0)
        {
            throw new JobFailedException($"Every trial failed; trial 0: {result.Trials[0].Error}");
        }
        var trained = plan.Request.Folds is null ? best.Select(t => t.Runs[0].Model!).ToArray() : Refit(data, spec, best, cancellationToken);
        var keptModels = best.Select((trial, i) => ModelArtifact.WithId(trained[i], Ids.NewModelId(), Tags(plan, sweep.Id, trial.Trial))).ToArray();
        for (var i = 0; i < best.Length; i++)
        {
            kept[best[i].Trial] = keptModels[i].Manifest.Id;
        }
        var outcome = Outcome();
        var activate = plan.Request.ActivateBest;
        return () =>
        {
            if (!sweeps.TrySucceedSweep(lease, keptModels, activate, outcome))
            {
                return false;
            }
            for (var i = 0; i < keptModels.Length; i++)
            {
                models.Adopt(keptModels[i], activate && i == 0);
            }
            return true;
        };
    }

    /// <summary>Trains the kept trials on every row, stacked as the sweep was; a refit that diverges keeps the trial's
    /// best fold's model instead.</summary>
    private static TrainedModel[] Refit(DataTable data, SweepSpec spec, TrialResult[] best, CancellationToken cancellationToken)
    {
        var runs = best.Select(t => new TrainingRun(new TrainingRequestSpec(spec.Target, spec.Features, t.Settings.Network,
            t.Settings.Options with { ValidationFraction = 0 }))).ToArray();
        var refits = BatchedTrainer.Train(data, runs, null, cancellationToken);
        return [.. best.Select((trial, i) => refits[i].Model ?? trial.Runs
            .OrderBy(r => spec.Metric.Of(r.Model!.Manifest.Metrics.Validation!)).First().Model!)];
    }

    private static Dictionary<string, string> Tags(SweepPlan plan, string sweepId, int trial)
    {
        var tags = SweepPlanner.Settings(plan, trial);
        tags[ModelTags.DatasetId] = plan.DatasetId;
        tags[SweepIdTag] = sweepId;
        tags[TrialTag] = trial.ToString(CultureInfo.InvariantCulture);
        return tags;
    }
}
