using ModelService.Model.Artifacts;
using ModelService.Model.Network;
using ModelService.Model.Training;
using ModelService.Model.Training.Batched;

namespace ModelService.Model.Tests.Training;

public sealed class BatchedTrainerTests
{
    // Batched and single training round differently (bmm vs addmm, summation order), so weights agree to float rounding
    // grown over the steps, not bit for bit.
    private const double WeightTolerance = 1e-4;
    private const double LossTolerance = 1e-4;

    private static readonly TrainingOptions Short = new() { Epochs = 8 };

    [Fact]
    public void Trials_trained_in_one_batch_match_the_same_trials_trained_alone()
    {
        var data = TestData.HousePrices(rows: 400, seed: 1);
        TrainingRun[] runs =
        [
            Run(Short with { LearningRate = 1e-3, Seed = 42 }),
            Run(Short with { LearningRate = 3e-3, WeightDecay = 1e-2, Seed = 42 }),
            Run(Short with { LearningRate = 1e-2, WeightDecay = 1e-3, Seed = 7 }),
            Run(Short with { LearningRate = 3e-4, Seed = 9, Epochs = 5 }),
        ];

        var results = BatchedTrainer.Train(data, runs, null, CancellationToken.None);

        Assert.All(results, r => Assert.Equal((0, 4), (r.Group, r.GroupSize)));
        AssertMatchesAlone(data, results);
        Assert.Equal(5, results[3].Model!.Manifest.Training.History.Count);
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.Sgd)]
    public void Each_optimizer_with_per_trial_learning_rate_and_weight_decay_matches_training_alone(OptimizerKind optimizer)
    {
        var data = TestData.HousePrices(rows: 300, seed: 2);
        var options = Short with { Optimizer = optimizer };
        TrainingRun[] runs =
        [
            Run(options with { LearningRate = 1e-3, WeightDecay = 0 }),
            Run(options with { LearningRate = 1e-2, WeightDecay = 0.05, Seed = 3 }),
        ];

        AssertMatchesAlone(data, BatchedTrainer.Train(data, runs, null, CancellationToken.None));
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.Sgd)]
    public void Trials_with_their_own_schedules_and_epochs_share_a_batch_and_match_training_alone(OptimizerKind optimizer)
    {
        var data = TestData.HousePrices(rows: 300, seed: 4);
        var cosine = Short with { Optimizer = optimizer, LearningRateSchedule = LearningRateSchedule.Cosine };
        TrainingRun[] runs =
        [
            Run(cosine with { LearningRate = 3e-3, WeightDecay = 0.01 }),
            Run(cosine with { LearningRate = 1e-2, Epochs = 5, Seed = 3 }),
            Run(Short with { Optimizer = optimizer, LearningRate = 3e-3, WeightDecay = 0.01 }),
        ];

        var results = BatchedTrainer.Train(data, runs, null, CancellationToken.None);

        Assert.All(results, r => Assert.Equal((0, 3), (r.Group, r.GroupSize)));
        AssertMatchesAlone(data, results);
        Assert.NotEqual(results[0].Model!.Manifest.Training.History[^1].TrainLoss, results[2].Model!.Manifest.Training.History[^1].TrainLoss);
        Assert.Equal(LearningRateSchedule.Cosine, results[0].Model!.Manifest.Training.LearningRateSchedule);
    }

    [Fact]
    public void Trials_with_their_own_dropout_rates_share_a_batch_and_match_training_alone()
    {
        var data = TestData.HousePrices(rows: 300, seed: 3);
        var network = new NetworkOptions([16, 8], Activation.Gelu, Dropout: 0.2);
        TrainingRun[] runs =
        [
            Run(Short, network),
            Run(Short with { Seed = 5, LearningRate = 5e-3 }, network with { Dropout = 0.5 }),
            Run(Short with { Seed = 6 }, network with { Dropout = 0 }),
        ];

        var results = BatchedTrainer.Train(data, runs, null, CancellationToken.None);

        Assert.All(results, r => Assert.Equal(3, r.GroupSize));
        AssertMatchesAlone(data, results);
    }

    [Fact]
    public void Batch_norm_trials_train_in_groups_of_one_exactly_as_alone()
    {
        var data = TestData.HousePrices(rows: 300, seed: 3);
        var network = new NetworkOptions([16, 8], BatchNorm: true);
        TrainingRun[] runs = [Run(Short, network), Run(Short with { Seed = 5 }, network)];

        var results = BatchedTrainer.Train(data, runs, null, CancellationToken.None);

        Assert.Equal([(0, 1), (1, 1)], results.Select(r => (r.Group, r.GroupSize)));
        foreach (var result in results)
        {
            Assert.Equal(Alone(data, result.Run).Manifest.WeightsSha256, result.Model!.Manifest.WeightsSha256);
        }
    }

    [Fact]
    public void Early_stopping_stops_one_trial_and_leaves_the_others_results_unchanged()
    {
        var data = TestData.HousePrices(rows: 300, seed: 4);
        var stopsEarly = Run(Short with { Epochs = 40, LearningRate = 0.3, EarlyStoppingPatience = 1, Seed = 11 });
        var runsOn = Run(Short with { Epochs = 40, EarlyStoppingPatience = 100 });

        var events = new List<string>();

        var together = BatchedTrainer.Train(data, [stopsEarly, runsOn], p => events.Add($"{p.Run}:{p.Progress.Epoch}"),
            r => events.Add($"{r.Index}:finished"), CancellationToken.None);
        var onItsOwn = BatchedTrainer.Train(data, [runsOn], null, CancellationToken.None);

        Assert.Equal(2, together[0].GroupSize);
        Assert.True(together[0].Model!.Manifest.Training.History.Count < 40, "the first trial should stop early");
        Assert.Equal(40, together[1].Model!.Manifest.Training.History.Count);
        AssertMatchesAlone(data, together);
        AssertClose(onItsOwn[0].Model!, together[1].Model!);
        var stoppedAfter = together[0].Model!.Manifest.Training.History.Count;
        Assert.Equal(events.IndexOf($"0:{stoppedAfter}") + 1, events.IndexOf("0:finished")); // at once, while the other trains on
        Assert.Equal(events.Count - 1, events.IndexOf("1:finished"));
    }

    [Fact]
    public void A_diverging_trial_fails_alone_and_its_group_trains_on()
    {
        var data = TestData.HousePrices(rows: 300, seed: 5);
        TrainingRun[] runs =
        [
            Run(Short with { Optimizer = OptimizerKind.Sgd, LearningRate = 1e4 }),
            Run(Short with { Optimizer = OptimizerKind.Sgd, LearningRate = 1e-2 }),
        ];

        var results = BatchedTrainer.Train(data, runs, null, CancellationToken.None);

        Assert.Null(results[0].Model);
        Assert.Contains("diverged", results[0].Error, StringComparison.Ordinal);
        Assert.Null(results[1].Error);
        AssertClose(Alone(data, runs[1]), results[1].Model!);
    }

    [Fact]
    public void Trials_with_another_architecture_or_batch_size_train_in_further_groups()
    {
        var data = TestData.HousePrices(rows: 200, seed: 6);
        TrainingRun[] runs =
        [
            Run(Short),
            Run(Short with { BatchSize = 32 }),
            Run(Short with { Seed = 1 }),
            Run(Short, new NetworkOptions([8])),
            Run(Short with { Seed = 2 }, new NetworkOptions([8])),
        ];

        var results = BatchedTrainer.Train(data, runs, null, CancellationToken.None);

        Assert.Equal([0, 1, 0, 2, 2], results.Select(r => r.Group));
        Assert.Equal([2, 1, 2, 2, 2], results.Select(r => r.GroupSize));
        AssertMatchesAlone(data, results);
    }

    [Fact]
    public void The_folds_of_one_seed_validate_on_every_row_once_and_match_training_each_fold_alone()
    {
        var data = TestData.HousePrices(rows: 301, seed: 7);
        var runs = CrossValidationFold.All(3).Select(f => new TrainingRun(TestData.SeedSpec(Short), f)).ToArray();

        var results = BatchedTrainer.Train(data, runs, null, CancellationToken.None);

        Assert.Equal([100, 100, 101], results.Select(r => r.Model!.Manifest.Training.ValidationRows));
        Assert.All(results, r => Assert.Equal(301, r.Model!.Manifest.Training.TrainRows + r.Model.Manifest.Training.ValidationRows));
        AssertMatchesAlone(data, results);
    }

    [Fact]
    public void Progress_is_reported_for_every_trial_and_epoch()
    {
        var data = TestData.HousePrices(rows: 100, seed: 8);
        var seen = new List<(int Run, int Epoch)>();

        BatchedTrainer.Train(data, [Run(Short with { Epochs = 2 }), Run(Short with { Epochs = 3 })], p => seen.Add((p.Run, p.Progress.Epoch)),
            CancellationToken.None);

        Assert.Equal([(0, 1), (1, 1), (0, 2), (1, 2), (1, 3)], seen);
    }

    [Fact]
    public void Cancellation_stops_the_whole_batch()
    {
        var data = TestData.HousePrices(rows: 200, seed: 9);
        using var cts = new CancellationTokenSource();
        var epochs = 0;

        Assert.ThrowsAny<OperationCanceledException>(() => BatchedTrainer.Train(data, [Run(Short), Run(Short with { Seed = 1 })],
            _ =>
            {
                epochs++;
                cts.Cancel();
            }, cts.Token));
        Assert.Equal(2, epochs);
    }

    [Fact]
    public void Runs_with_different_features_are_refused()
    {
        var data = TestData.HousePrices(rows: 50, seed: 1);
        var other = new TrainingRun(new TrainingRequestSpec("price", ["rooms"], new NetworkOptions([4]), Short));

        Assert.Throws<ArgumentException>(() => BatchedTrainer.Train(data, [Run(Short), other], null, CancellationToken.None));
    }

    private static TrainingRun Run(TrainingOptions options, NetworkOptions? network = null) => new(TestData.SeedSpec(options, network));

    private static TrainedModel Alone(Data.DataTable data, TrainingRun run) =>
        Trainer.Train(data, run.Spec, run.Fold, null, null, CancellationToken.None);

    private static void AssertMatchesAlone(Data.DataTable data, IReadOnlyList<RunResult> results)
    {
        foreach (var result in results)
        {
            Assert.Null(result.Error);
            AssertClose(Alone(data, result.Run), result.Model!);
        }
    }

    private static void AssertClose(TrainedModel expected, TrainedModel actual)
    {
        var e = expected.Manifest;
        var a = actual.Manifest;
        Assert.Equal(e.Training.History.Count, a.Training.History.Count);
        Assert.Equal(e.Training.BestEpoch, a.Training.BestEpoch);
        Assert.Equal((e.Training.TrainRows, e.Training.ValidationRows), (a.Training.TrainRows, a.Training.ValidationRows));
        foreach (var (want, got) in e.Training.History.Zip(a.Training.History))
        {
            Assert.True(Math.Abs(want.TrainLoss - got.TrainLoss) <= LossTolerance * Math.Max(1, want.TrainLoss),
                $"epoch {want.Epoch}: train loss {got.TrainLoss} vs {want.TrainLoss} alone");
            Assert.True(Math.Abs((want.ValidationLoss ?? 0) - (got.ValidationLoss ?? 0)) <= LossTolerance * Math.Max(1, want.ValidationLoss ?? 0),
                $"epoch {want.Epoch}: validation loss {got.ValidationLoss} vs {want.ValidationLoss} alone");
        }
        var difference = expected.Weights.Zip(actual.Weights).SelectMany(p => p.First.Values.Zip(p.Second.Values, (x, y) => Math.Abs(x - y))).Max();
        Assert.True(difference <= WeightTolerance, $"largest weight difference {difference}");
        Assert.Equal(e.Metrics.Validation!.Rmse, a.Metrics.Validation!.Rmse, 1e-3 * e.Metrics.Validation.Rmse);
    }
}
