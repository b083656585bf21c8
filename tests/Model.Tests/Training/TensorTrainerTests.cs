using ModelService.Model.Data;
using ModelService.Model.Inference;
using ModelService.Model.Network;
using ModelService.Model.Training;

namespace ModelService.Model.Tests.Training;

public sealed class TensorTrainerTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 20, LearningRate = 0.01 };

    [Fact]
    public void A_per_position_target_is_learned_to_a_small_rmse_on_held_out_samples()
    {
        var model = Train(TensorTestData.Bands(count: 240, height: 8, width: 8, seed: 1), Quick);
        var test = TensorTestData.Bands(count: 60, height: 8, width: 8, seed: 2);

        var predictions = new double[test.Y.Length];
        new Predictor(model).PredictTensor(test.X, test.Count, 8, 8, predictions);

        // The target's standard deviation is about 2.1 and its noise ±0.05.
        var rmse = TensorTestData.Rmse(predictions, test.Y);
        Assert.True(rmse < 0.15, $"test RMSE {rmse:F3}");
        var m = model.Manifest;
        Assert.Equal(Head.PerPosition, m.Network.Head);
        Assert.Equal(InputKind.Tensor, m.InputKind);
        Assert.Equal([8, 8], m.TargetShape);
        Assert.Equal([8, 8, 3], m.InputShape);
        Assert.Equal((192, 48, 0), (m.Training.TrainRows, m.Training.ValidationRows, m.Training.DroppedRows));
        Assert.True(m.Metrics.Validation!.Rmse < 0.15, $"validation RMSE {m.Metrics.Validation.Rmse:F3}");
    }

    [Fact]
    public void A_flatten_dense_head_learns_a_target_that_depends_on_where_a_pattern_sits()
    {
        var options = new TrainingOptions { Epochs = 60, LearningRate = 0.01 };
        var model = Train(TensorTestData.BrightPixelColumn(count: 800, size: 6, seed: 3), options);
        var test = TensorTestData.BrightPixelColumn(count: 200, size: 6, seed: 4);

        var predictions = new double[test.Count];
        new Predictor(model).PredictTensor(test.X, test.Count, 6, 6, predictions);

        // Columns 0..5 have a standard deviation of about 1.7; guessing the mean scores that.
        var rmse = TensorTestData.Rmse(predictions, test.Y);
        Assert.True(rmse < 0.5, $"test RMSE {rmse:F3}");
        Assert.Equal(Head.FlattenDense, model.Manifest.Network.Head);
        Assert.Empty(model.Manifest.TargetShape!);
        Assert.Equal(6 * 6 * 8, model.Manifest.Network.PositionDependentParameterCount);
    }

    [Fact]
    public void A_per_position_network_with_batch_norm_and_dropout_trains_and_predicts_as_its_TorchSharp_network()
    {
        var options = new TrainingOptions { Epochs = 10, LearningRate = 0.01 };
        var model = Trainer.Train(TensorTestData.Bands(count: 120, height: 4, width: 4, seed: 13),
            new TrainingRequestSpec("y", [], new NetworkOptions([16, 8], Activation.Gelu, Dropout: 0.1, BatchNorm: true), options), null,
            CancellationToken.None);
        var test = TensorTestData.Bands(count: 20, height: 5, width: 3, seed: 14);

        var managed = new double[test.Y.Length];
        new Predictor(model).PredictTensor(test.X, test.Count, 5, 3, managed);
        using var torch = new Inference.TorchForward(model);
        var reference = torch.PredictTensor(test.X, test.Count, 5, 3);

        var history = model.Manifest.Training.History;
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss * 0.5, $"{history[0].TrainLoss} -> {history[^1].TrainLoss}");
        Assert.True(TensorTestData.Rmse(managed, test.Y) < 0.5, $"test RMSE {TensorTestData.Rmse(managed, test.Y):F3}");
        for (var i = 0; i < managed.Length; i++)
        {
            Assert.True(Math.Abs(managed[i] - reference[i]) <= 1e-4 * Math.Max(Math.Abs(reference[i]), 2), $"output {i}: {managed[i]} vs {reference[i]}");
        }
    }

    [Fact]
    public void The_same_seed_gives_identical_weights()
    {
        var data = TensorTestData.Bands(count: 40, height: 4, width: 4, seed: 5);
        var options = Quick with { Epochs = 3 };

        var first = Train(data, options);
        var again = Train(data, options);
        var other = Train(data, options with { Seed = 43 });

        Assert.Equal(first.Manifest.WeightsSha256, again.Manifest.WeightsSha256);
        Assert.NotEqual(first.Manifest.WeightsSha256, other.Manifest.WeightsSha256);
    }

    [Fact]
    public void Channels_are_standardised_with_statistics_of_the_training_samples_and_missing_values_ignored()
    {
        var data = TensorTestData.Bands(count: 30, height: 3, width: 3, seed: 6);
        data.X[0] = float.NaN; // channel 0 of the first position of sample 0
        data.X[5] = float.NaN; // channel 2 of the second position
        var options = Quick with { Epochs = 1, ValidationFraction = 0 };

        var model = Train(data, options);

        var features = model.Manifest.Features;
        Assert.Equal(["channel_0", "channel_1", "channel_2"], features.Select(f => f.Name));
        for (var c = 0; c < 3; c++)
        {
            var observed = Enumerable.Range(0, data.X.Length / 3).Select(p => (double)data.X[(p * 3) + c]).Where(v => !double.IsNaN(v)).ToArray();
            var mean = observed.Average();
            // A missing value takes the mean, so it adds nothing to the deviation but counts as a value.
            var std = Math.Sqrt(observed.Sum(v => (v - mean) * (v - mean)) / (data.X.Length / 3));
            Assert.Equal(mean, features[c].Mean!.Value, 1e-12);
            Assert.Equal(mean, features[c].ImputeValue!.Value, 1e-12);
            Assert.Equal(std, features[c].Std!.Value, 1e-12);
        }
        Assert.Equal(data.Y.Average(), model.Manifest.TargetScaling.Mean, 1e-12);
    }

    [Fact]
    public void A_missing_input_value_predicts_as_its_channel_mean()
    {
        var model = Train(TensorTestData.Bands(count: 30, height: 2, width: 2, seed: 7), Quick with { Epochs = 2 });
        var predictor = new Predictor(model);
        var sample = TensorTestData.Uniform(1, 2, 2, 3, seed: 8);
        var imputed = (float[])sample.Clone();
        sample[4] = float.NaN;
        imputed[4] = (float)model.Manifest.Features[1].Mean!.Value;

        var withMissing = new double[4];
        var withMean = new double[4];
        predictor.PredictTensor(sample, 1, 2, 2, withMissing);
        predictor.PredictTensor(imputed, 1, 2, 2, withMean);

        Assert.Equal(withMean, withMissing);
    }

    [Fact]
    public void A_sample_with_a_missing_target_is_dropped_and_counted()
    {
        var data = TensorTestData.Bands(count: 50, height: 2, width: 2, seed: 9);
        for (var n = 0; n < 50; n += 10)
        {
            data.Y[(n * 4) + 3] = double.NaN; // one position of every tenth sample
        }

        var model = Train(data, Quick with { Epochs = 1 });

        Assert.Equal(5, model.Manifest.Training.DroppedRows);
        Assert.Equal((36, 9), (model.Manifest.Training.TrainRows, model.Manifest.Training.ValidationRows));
    }

    [Fact]
    public void Progress_and_early_stopping_work_as_for_tables()
    {
        var reports = new List<EpochProgress>();
        var options = new TrainingOptions { Epochs = 300, LearningRate = 0.05, EarlyStoppingPatience = 2 };

        var model = Trainer.Train(TensorTestData.Bands(count: 40, height: 3, width: 3, seed: 10), Spec(options), reports.Add,
            CancellationToken.None);

        var training = model.Manifest.Training;
        Assert.True(training.Epochs < 300, "early stopping should have ended training");
        Assert.Equal(training.Epochs - 2, training.BestEpoch);
        Assert.Equal(Enumerable.Range(1, training.Epochs), reports.Select(r => r.Epoch));
        var bestLoss = training.History[training.BestEpoch - 1].ValidationLoss!.Value;
        var expectedRmse = Math.Sqrt(bestLoss) * model.Manifest.TargetScaling.Std;
        Assert.Equal(expectedRmse, model.Manifest.Metrics.Validation!.Rmse, expectedRmse * 1e-3);
    }

    [Fact]
    public void Cancellation_stops_before_the_next_batch()
    {
        using var cts = new CancellationTokenSource();
        var batches = 0;

        Assert.ThrowsAny<OperationCanceledException>(() => Trainer.Train(TensorTestData.Bands(100, 4, 4, seed: 11), Spec(Quick), null,
            steps =>
            {
                batches = steps;
                if (steps == 3)
                {
                    cts.Cancel();
                }
            }, cts.Token));
        Assert.Equal(3, batches);
    }

    [Fact]
    public void A_head_that_does_not_fit_the_targets_shape_is_refused()
    {
        var perPosition = TensorTestData.Bands(count: 10, height: 2, width: 2, seed: 12);
        var perSample = TensorTestData.BrightPixelColumn(count: 10, size: 3, seed: 12);
        var table = TestData.HousePrices(rows: 20, seed: 1);

        var dense = Assert.Throws<ArgumentException>(() => Train(perPosition, Quick, Head.FlattenDense));
        var position = Assert.Throws<ArgumentException>(() => Train(perSample, Quick, Head.PerPosition));
        var onTable = Assert.Throws<ArgumentException>(() => Trainer.Train(table,
            TestData.SeedSpec(Quick, new NetworkOptions([4], Head: Head.PerPosition)), null, CancellationToken.None));

        Assert.Contains("per-position", dense.Message, StringComparison.Ordinal);
        Assert.Contains("flatten-dense", position.Message, StringComparison.Ordinal);
        Assert.Contains("tensor", onTable.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Train(perPosition, Quick with { Epochs = 0 }));
    }

    private static TrainingRequestSpec Spec(TrainingOptions options, Head? head = null) =>
        new("y", [], new NetworkOptions([16, 8], Head: head), options);

    private static ModelService.Model.Artifacts.TrainedModel Train(TensorData data, TrainingOptions options, Head? head = null) =>
        Trainer.Train(data, Spec(options, head), null, CancellationToken.None);
}
