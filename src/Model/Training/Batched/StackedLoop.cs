using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelService.Model.Training.Batched;

/// <summary>
/// <see cref="TrainingLoop"/> for a group of runs as one <see cref="StackedNetwork"/>: per epoch each run draws its own
/// shuffle, per step one gather fetches every run's batch and one backward pass computes every run's gradient (the loss is
/// the sum of the runs' mean squared errors, so run k's gradient is that of its own loss). A run that stops (its epochs
/// are done, early stopping, divergence) leaves the stack at the end of that epoch and the rest continue on a smaller one.
/// </summary>
internal static class StackedLoop
{
    private const int EvaluationValues = 65536;

    /// <summary>Trains the members; calls <paramref name="onFinished"/> with a member's outcome (or error) as it leaves.</summary>
    public static void Run(
        IReadOnlyList<PreparedRun> members, Action<int, EpochProgress>? onEpoch, Action<int, LoopOutcome?, string?> onFinished,
        CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        foreach (var member in members)
        {
            member.Restart();
        }
        var first = members[0];
        var (trainRows, validationRows, width) = (first.Encoded.TrainRows, first.Encoded.ValidationRows, first.Encoded.InputWidth);
        var batchSize = first.Spec.Options.BatchSize;
        var trackers = members.Select(m => new EpochTracker(m.Spec.Options)).ToArray();
        var active = Enumerable.Range(0, members.Count).ToList();

        var state = new State(
            new StackedNetwork(first.Network, members.Select(m => m.Module.ExportWeights()).ToArray(),
                members.Select(m => m.Network.Dropout).ToArray(), members.Select(m => m.Generator).ToArray()),
            new StackedOptimizer(first.Spec.Options.Optimizer, members.Select(m => m.Spec.Options).ToArray(),
                members.Select(m => LearningRateSchedules.TotalSteps(m.Spec.Options, trainRows)).ToArray(), first.Module.TrainableCount),
            Stack(members.Select(m => m.Encoded.TrainInputs), trainRows, width),
            Stack(members.Select(m => m.Encoded.TrainTargets), trainRows, 1),
            validationRows > 0 ? Stack(members.Select(m => m.Encoded.ValidationInputs), validationRows, width) : null,
            validationRows > 0 ? Stack(members.Select(m => m.Encoded.ValidationTargets), validationRows, 1) : null);
        try
        {
            var lastEpoch = members.Max(m => m.Spec.Options.Epochs);
            for (var epoch = 1; epoch <= lastEpoch && active.Count > 0; epoch++)
            {
                var (trainLosses, validationLosses) = RunEpoch(state, active.Select(a => members[a].Generator).ToArray(),
                    trainRows, batchSize, ct);
                var leaving = new List<int>();
                for (var position = 0; position < active.Count; position++)
                {
                    var member = active[position];
                    var options = members[member].Spec.Options;
                    var validationLoss = validationLosses?[position];
                    bool stop;
                    try
                    {
                        stop = trackers[member].Record(epoch, trainLosses[position], validationLoss, () => state.Network.ExportWeights(position));
                    }
                    catch (InvalidOperationException e)
                    {
                        onFinished(member, null, e.Message);
                        leaving.Add(position);
                        continue;
                    }
                    onEpoch?.Invoke(member, new EpochProgress(epoch, options.Epochs, trainLosses[position], validationLoss, clock.Elapsed));
                    if (stop || epoch == options.Epochs)
                    {
                        var tracker = trackers[member];
                        onFinished(member, tracker.MustRestoreBest
                            ? new LoopOutcome(tracker.History, tracker.BestEpoch, tracker.BestWeights!)
                            : new LoopOutcome(tracker.History, tracker.BestEpoch, state.Network.ExportWeights(position)), null);
                        leaving.Add(position);
                    }
                }
                if (leaving.Count > 0)
                {
                    var keep = Enumerable.Range(0, active.Count).Except(leaving).ToArray();
                    active = keep.Select(p => active[p]).ToList();
                    if (active.Count > 0)
                    {
                        var smaller = state.Select(keep);
                        state.Dispose();
                        state = smaller;
                    }
                }
            }
        }
        finally
        {
            state.Dispose();
        }
    }

    private static (double[] Train, double[]? Validation) RunEpoch(State state, Generator[] generators, int trainRows, int batchSize,
        CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        var trials = generators.Length;
        var network = state.Network;
        using var lossSum = zeros(trials, ScalarType.Float64);
        // Trial k's rows sit at k·trainRows in the stacked inputs, so its shuffle is offset by that much.
        var shuffles = new Tensor[trials];
        for (var k = 0; k < trials; k++)
        {
            using var offset = (k * (long)trainRows).ToScalar(); // held for the call: see FlatOptimizer
            shuffles[k] = randperm(trainRows, generator: generators[k]).add_(offset);
        }
        var order = stack(shuffles);
        var rowsSeen = 0;
        for (var start = 0; start < trainRows; start += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            var count = Math.Min(batchSize, trainRows - start);
            if (count == 1 && network.Spec.BatchNorm && rowsSeen > 0)
            {
                break; // as TrainingLoop: batch norm cannot normalise a single row
            }
            Step(state, order, start, count, lossSum);
            rowsSeen += count;
        }
        var train = lossSum.data<double>().Select(sum => sum / rowsSeen).ToArray();
        return (train, state.ValidationInputs is null ? null : Evaluate(network, state.ValidationInputs, state.ValidationTargets!));
    }

    private static void Step(State state, Tensor order, int start, int count, Tensor lossSum)
    {
        using var scope = NewDisposeScope();
        var network = state.Network;
        var trials = order.shape[0];
        var rows = order.narrow(1, start, count).reshape(-1);
        var inputs = state.TrainInputs.index_select(0, rows).view(trials, count * network.Spec.Positions, network.Spec.InputChannels);
        var targets = state.TrainTargets.index_select(0, rows).view(trials, count, 1);
        // diff * diff, not square(): square() builds its exponent as a temporary Scalar that a collection can finalise
        // while LibTorch still reads it.
        var diff = network.Forward(inputs, training: true).sub(targets);
        var losses = diff.mul(diff).mean([1, 2]);
        network.ZeroGradients();
        losses.sum().backward();
        state.Optimizer.Step(network.FlatData, network.FlatGradient);
        using var noGrad = no_grad();
        using var batchRows = ((double)count).ToScalar(); // held for the call: see FlatOptimizer
        lossSum.add_(losses, alpha: batchRows);
    }

    /// <summary>Each trial's mean squared error on its validation rows, in eval mode, computed in slices of rows.</summary>
    private static double[] Evaluate(StackedNetwork network, Tensor inputs, Tensor targets)
    {
        using var noGrad = no_grad();
        var (trials, rows) = (inputs.shape[0], inputs.shape[1]);
        var chunk = Math.Max(1, EvaluationValues / trials);
        var sums = new double[trials];
        for (long start = 0; start < rows; start += chunk)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(chunk, rows - start);
            var x = inputs.narrow(1, start, count).reshape(trials, count * network.Spec.Positions, network.Spec.InputChannels);
            var diff = network.Forward(x, training: false).sub(targets.narrow(1, start, count));
            var errors = diff.mul(diff).sum([1, 2]);
            var values = errors.data<float>();
            for (var k = 0; k < trials; k++)
            {
                sums[k] += values[k];
            }
        }
        return sums.Select(s => s / rows).ToArray();
    }

    /// <summary>Per-trial arrays of <paramref name="rows"/> x <paramref name="width"/> values as one [K·rows, width] tensor.</summary>
    private static Tensor Stack(IEnumerable<float[]> perTrial, int rows, int width)
    {
        var values = perTrial.SelectMany(v => v).ToArray();
        return tensor(values, [values.Length / width, width]);
    }

    /// <summary>What an epoch needs for the trials still training; the training tensors are [K·rows, width], the validation
    /// tensors [K, rows, width].</summary>
    private sealed class State : IDisposable
    {
        public State(StackedNetwork network, StackedOptimizer optimizer, Tensor trainInputs, Tensor trainTargets, Tensor? validationInputs,
            Tensor? validationTargets)
        {
            Network = network;
            Optimizer = optimizer;
            TrainInputs = trainInputs;
            TrainTargets = trainTargets;
            var trials = network.Trials;
            ValidationInputs = validationInputs?.view(trials, -1, validationInputs.shape[1]);
            ValidationTargets = validationTargets?.view(trials, -1, 1);
            validationInputs?.Dispose();
            validationTargets?.Dispose();
        }

        public StackedNetwork Network { get; }

        public StackedOptimizer Optimizer { get; }

        public Tensor TrainInputs { get; }

        public Tensor TrainTargets { get; }

        public Tensor? ValidationInputs { get; }

        public Tensor? ValidationTargets { get; }

        /// <summary>A state for the trials at <paramref name="keep"/> (positions in this one).</summary>
        public State Select(IReadOnlyList<int> keep)
        {
            using var index = tensor(keep.Select(k => (long)k).ToArray());
            var trials = Network.Trials;
            return new State(Network.Select(keep), Optimizer.Select(keep),
                Rows(TrainInputs, trials, index), Rows(TrainTargets, trials, index),
                ValidationInputs?.index_select(0, index).reshape(-1, ValidationInputs.shape[2]),
                ValidationTargets?.index_select(0, index).reshape(-1, 1));
        }

        public void Dispose()
        {
            Network.Dispose();
            Optimizer.Dispose();
            TrainInputs.Dispose();
            TrainTargets.Dispose();
            ValidationInputs?.Dispose();
            ValidationTargets?.Dispose();
        }

        private static Tensor Rows(Tensor stacked, long trials, Tensor index)
        {
            using var byTrial = stacked.view(trials, -1, stacked.shape[1]);
            using var kept = byTrial.index_select(0, index);
            return kept.reshape(-1, stacked.shape[1]);
        }
    }
}
