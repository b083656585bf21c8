using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using TorchSharp;

namespace ModelService.Model.Training.Batched;

/// <summary>
/// Trains many runs on one table, stacking runs that can share a computation: the same architecture (encoded input width,
/// hidden channels, activation, batch normalisation), batch size, optimiser kind, thread count and numbers of training
/// and validation rows. Within a group each run keeps its own seed (split, initial weights, shuffles, dropout masks),
/// learning rate, weight decay, dropout rate, epochs and early stopping, and gets the result it would get from
/// <see cref="Trainer"/> alone, within float rounding. Runs that differ in a grouping field train in further groups, one
/// after another.
/// <para>A run with batch normalisation trains in a group of its own, through <see cref="Trainer"/>'s own loop: batch
/// normalisation cancels the gradient of the bias before it, which leaves only rounding noise that Adam scales to full
/// steps, so a stacked computation (which rounds differently) would give that bias, and the running mean that follows it,
/// another trajectory than training alone.</para>
/// </summary>
public static class BatchedTrainer
{
    /// <summary>
    /// Trains every run and returns one result per run, in order. A run that diverges fails on its own; the rest of its
    /// group trains on. Calls <paramref name="onEpoch"/> after each run's epoch and <paramref name="onRunFinished"/> as soon
    /// as a run's model is built (or it failed), which is before its group has finished when it stops early. Sets
    /// LibTorch's process-wide thread count to each group's <see cref="TrainingOptions.Threads"/>. Holds every run's
    /// encoded rows from the start (runs x rows x encoded width floats): callers bound the number of runs.
    /// </summary>
    /// <exception cref="ArgumentException">A run does not fit the table, an option is out of range, or the runs do not
    /// share one target and feature list.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled; checked before every step.</exception>
    public static IReadOnlyList<RunResult> Train(
        DataTable data, IReadOnlyList<TrainingRun> runs, Action<RunProgress>? onEpoch, Action<RunResult>? onRunFinished, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(runs);
        Validate(data, runs);
        ct.ThrowIfCancellationRequested();

        var prepared = new List<PreparedRun>(runs.Count);
        try
        {
            foreach (var run in runs)
            {
                prepared.Add(PreparedRun.Create(data, run.Spec, run.Fold));
            }
            var results = new RunResult[runs.Count];
            var groups = prepared.Select((p, i) => (Key: GroupKey.Of(p, i), Index: i)).GroupBy(x => x.Key, x => x.Index).ToArray();
            for (var g = 0; g < groups.Length; g++)
            {
                var members = groups[g].ToArray();
                var group = g;
                torch.set_num_threads(groups[g].Key.Threads);
                Action<int, EpochProgress>? report = onEpoch is null ? null : (member, progress) => onEpoch(new RunProgress(members[member], progress));
                void Finished(int member, LoopOutcome? outcome, string? error)
                {
                    var index = members[member];
                    var run = prepared[index];
                    TrainedModel? model = null;
                    if (outcome is not null)
                    {
                        run.Module.LoadWeights(outcome.Weights);
                        model = run.Finish(outcome);
                    }
                    results[index] = new RunResult(index, runs[index], model, error, group, members.Length);
                    onRunFinished?.Invoke(results[index]);
                }
                if (groups[g].Key.Alone)
                {
                    RunAlone(prepared[members[0]], report, Finished, ct);
                }
                else
                {
                    StackedLoop.Run(members.Select(i => prepared[i]).ToArray(), report, Finished, ct);
                }
            }
            return results;
        }
        finally
        {
            foreach (var run in prepared)
            {
                run.Dispose();
            }
        }
    }

    /// <summary>As <see cref="Train(DataTable, IReadOnlyList{TrainingRun}, Action{RunProgress}?, Action{RunResult}?, CancellationToken)"/>
    /// without a callback per finished run.</summary>
    public static IReadOnlyList<RunResult> Train(
        DataTable data, IReadOnlyList<TrainingRun> runs, Action<RunProgress>? onEpoch, CancellationToken ct) =>
        Train(data, runs, onEpoch, onRunFinished: null, ct);

    private static void RunAlone(
        PreparedRun run, Action<int, EpochProgress>? onEpoch, Action<int, LoopOutcome?, string?> onFinished, CancellationToken ct)
    {
        run.Restart();
        LoopOutcome outcome;
        try
        {
            var report = onEpoch is null ? null : new Action<EpochProgress>(progress => onEpoch(0, progress));
            outcome = TrainingLoop.Run(run.Module, run.Encoded, run.Spec.Options, run.Generator, report, null, ct);
        }
        catch (InvalidOperationException e) when (e is not ObjectDisposedException)
        {
            onFinished(0, null, e.Message);
            return;
        }
        onFinished(0, outcome, null);
    }

    private static void Validate(DataTable data, IReadOnlyList<TrainingRun> runs)
    {
        foreach (var run in runs)
        {
            ArgumentNullException.ThrowIfNull(run);
            ArgumentNullException.ThrowIfNull(run.Spec);
            Trainer.Validate(data, run.Spec);
            run.Fold?.Validate();
        }
        if (runs.Count > 0 && runs.Any(r => r.Spec.Target != runs[0].Spec.Target || !r.Spec.Features.SequenceEqual(runs[0].Spec.Features)))
        {
            throw new ArgumentException("Every run of a batch must have the same target and features.", nameof(runs));
        }
    }

    /// <summary>What runs must share to train as one stacked computation; <paramref name="Alone"/> runs (batch
    /// normalisation) get a key of their own through <paramref name="Run"/>.</summary>
    private sealed record GroupKey(
        bool Alone, int Run, int InputWidth, string HiddenChannels, Network.Activation Activation, bool BatchNorm, int BatchSize, OptimizerKind Optimizer,
        int Threads, int TrainRows, int ValidationRows)
    {
        public static GroupKey Of(PreparedRun run, int index) => new(
            run.Network.BatchNorm, run.Network.BatchNorm ? index : -1, run.Network.InputChannels, string.Join(',', run.Network.HiddenChannels), run.Network.Activation, run.Network.BatchNorm,
            run.Spec.Options.BatchSize, run.Spec.Options.Optimizer, run.Spec.Options.Threads, run.Encoded.TrainRows,
            run.Encoded.ValidationRows);
    }
}
