using System.Diagnostics;
using ModelService.Model.Artifacts;
using ModelService.Model.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelService.Model.Training;

/// <summary>The result of the epoch loop: the losses, the epoch whose weights the network now holds, and the weights.</summary>
internal sealed record LoopOutcome(IReadOnlyList<EpochRecord> History, int BestEpoch, IReadOnlyList<NamedTensorData> Weights);

/// <summary>
/// Mini-batch training of a <see cref="ConvRegressor"/> on encoded tensors (a batch is rows of a table or samples of
/// tensor data; the loss is the mean over every target value of the batch, all positions of a per-position target). Tiny
/// networks spend their time in per-operation dispatch, so a step does only what it must: one shuffled index tensor per
/// epoch, index_select per batch, one flat parameter tensor for the optimiser, and the epoch loss summed in a tensor that
/// is read once per epoch. Per-position ReLU networks (no dropout or batch norm) take their gradient from
/// <see cref="ExplicitBackward"/> instead of autograd.
/// </summary>
internal static class TrainingLoop
{
    // Evaluation runs in slices so that a large data set does not need every layer's activations for all rows at once.
    internal const int EvaluationChunk = 65536;

    /// <summary>Rows per evaluation slice: <see cref="EvaluationChunk"/> positions' worth (a tensor sample has many).</summary>
    internal static int EvaluationRows(NetworkSpec spec) => Math.Max(1, EvaluationChunk / spec.Positions);

    public static LoopOutcome Run(
        ConvRegressor network,
        EncodedSplit data,
        TrainingOptions options,
        Generator generator,
        Action<EpochProgress>? onEpoch,
        Action<int>? onBatch,
        CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var optimizer = new FlatOptimizer(network.FlatParameter, options, LearningRateSchedules.TotalSteps(options, data.TrainRows));
        using var backward = ExplicitBackward.For(network, Math.Min(options.BatchSize, data.TrainRows));
        using var xTrain = tensor(data.TrainInputs, [data.TrainRows, data.InputWidth]);
        using var yTrain = tensor(data.TrainTargets, [data.TrainRows, data.TargetWidth]);
        using var xValidation = data.ValidationRows > 0 ? tensor(data.ValidationInputs, [data.ValidationRows, data.InputWidth]) : null;
        using var yValidation = data.ValidationRows > 0 ? tensor(data.ValidationTargets, [data.ValidationRows, data.TargetWidth]) : null;
        using var lossSum = zeros(1, ScalarType.Float64);

        var tracker = new EpochTracker(options);
        var steps = 0;
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            network.train();
            lossSum.zero_();
            var rowsSeen = 0;
            var order = randperm(data.TrainRows, generator: generator);
            for (var start = 0; start < data.TrainRows; start += options.BatchSize)
            {
                ct.ThrowIfCancellationRequested();
                var count = Math.Min(options.BatchSize, data.TrainRows - start);
                if (count == 1 && network.Spec.BatchNorm && rowsSeen > 0)
                {
                    break; // batch norm cannot normalise a single row; the row is in another batch next epoch
                }
                Step(network, optimizer, backward, order, start, count, xTrain, yTrain, lossSum);
                rowsSeen += count;
                onBatch?.Invoke(++steps);
            }

            var trainLoss = lossSum.item<double>() / rowsSeen;
            double? validationLoss = xValidation is null ? null : Evaluate(network, xValidation, yValidation!);
            var stop = tracker.Record(epoch, trainLoss, validationLoss, network.ExportWeights);
            onEpoch?.Invoke(new EpochProgress(epoch, options.Epochs, trainLoss, validationLoss, clock.Elapsed));
            if (stop)
            {
                break;
            }
        }

        if (tracker.MustRestoreBest)
        {
            network.LoadWeights(tracker.BestWeights!);
            return new LoopOutcome(tracker.History, tracker.BestEpoch, tracker.BestWeights!);
        }
        return new LoopOutcome(tracker.History, tracker.BestEpoch, network.ExportWeights());
    }

    /// <summary>Eval-mode outputs (standardised units) for encoded inputs, row-major [rows, inputWidth] of the network's
    /// trained shape: [rows] for a flatten-dense head, [rows, H·W] for a per-position one.</summary>
    public static float[] Predict(ConvRegressor network, float[] inputs, int rows, int inputWidth)
    {
        var perRow = network.Spec.OutputsPerSample;
        var outputs = new float[rows * perRow];
        network.eval();
        using var noGrad = no_grad();
        using var all = tensor(inputs, [rows, inputWidth]);
        var chunk = EvaluationRows(network.Spec);
        for (var start = 0; start < rows; start += chunk)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(chunk, rows - start);
            network.forward(all.narrow(0, start, count)).data<float>().CopyTo(outputs, start * perRow);
        }
        return outputs;
    }

    private static void Step(
        ConvRegressor network, FlatOptimizer optimizer, ExplicitBackward? backward, Tensor order, int start, int count, Tensor xTrain,
        Tensor yTrain, Tensor lossSum)
    {
        using var scope = NewDisposeScope();
        var rows = order.narrow(0, start, count);
        if (backward is not null)
        {
            using var noAutograd = no_grad();
            backward.Step(xTrain.index_select(0, rows), yTrain.index_select(0, rows), lossSum);
            optimizer.Step();
            return;
        }
        var loss = nn.functional.mse_loss(network.forward(xTrain.index_select(0, rows)), yTrain.index_select(0, rows));
        network.ZeroGradients();
        loss.backward();
        optimizer.Step();
        using var noGrad = no_grad();
        using var batchRows = ((double)count).ToScalar(); // held for the call: see FlatOptimizer
        lossSum.add_(loss, alpha: batchRows);
    }

    private static double Evaluate(ConvRegressor network, Tensor inputs, Tensor targets)
    {
        network.eval();
        using var noGrad = no_grad();
        var rows = inputs.shape[0];
        var chunk = EvaluationRows(network.Spec);
        double sum = 0;
        for (long start = 0; start < rows; start += chunk)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(chunk, rows - start);
            var loss = nn.functional.mse_loss(network.forward(inputs.narrow(0, start, count)), targets.narrow(0, start, count), nn.Reduction.Sum);
            sum += loss.item<float>();
        }
        return sum / targets.numel();
    }
}
