using ModelService.Model.Network;
using ModelService.Model.Sweeps;
using ModelService.Model.Training;

namespace ModelService.Model.Tests.Sweeps;

public sealed class SweepTrainerTests
{
    private static readonly TrainingOptions Short = new() { Epochs = 6 };
    private static readonly NetworkOptions Seed = new([16, 8]);

    [Fact]
    public void Cross_validated_trials_are_scored_by_the_mean_over_folds_and_ranked_best_first()
    {
        var data = TestData.HousePrices(rows: 300, seed: 1);
        SweepTrial[] trials =
        [
            new(Seed, Short with { LearningRate = 1e-4 }),
            new(Seed, Short with { LearningRate = 1e-2 }),
            new(new NetworkOptions([8]), Short with { LearningRate = 3e-3 }),
        ];

        var result = SweepTrainer.Train(data, new SweepSpec("price", TestData.HouseFeatures, trials, Folds: 3), null, CancellationToken.None);

        foreach (var trial in result.Trials)
        {
            Assert.Equal([0, 1, 2], trial.Runs.Select(r => r.Run.Fold!.Index));
            var rmses = trial.Runs.Select(r => r.Model!.Manifest.Metrics.Validation!.Rmse).ToArray();
            Assert.Equal(rmses.Average(), trial.Score!.Value, 1e-9);
            Assert.True(trial.Spread > 0);
        }
        Assert.Equal(result.Trials.OrderBy(t => t.Score).Select(t => t.Trial), result.Leaderboard.Select(t => t.Trial));
        Assert.Equal(0, result.Leaderboard[^1].Trial); // a learning rate of 1e-4 learns least in 6 epochs
    }

    [Fact]
    public void The_mae_metric_scores_trials_by_their_validation_mae()
    {
        var data = TestData.HousePrices(rows: 200, seed: 2);
        SweepTrial[] trials = [new(Seed, Short), new(Seed, Short with { LearningRate = 1e-2 })];

        var result = SweepTrainer.Train(data, new SweepSpec("price", TestData.HouseFeatures, trials, Metric: SweepMetric.Mae), null,
            CancellationToken.None);

        Assert.All(result.Trials, t => Assert.Equal(t.Runs.Single().Model!.Manifest.Metrics.Validation!.Mae, t.Score));
        Assert.All(result.Trials, t => Assert.Equal(0, t.Spread));
    }

    [Fact]
    public void A_diverging_trial_is_ranked_last_with_its_error()
    {
        var data = TestData.HousePrices(rows: 200, seed: 3);
        var sgd = Short with { Optimizer = OptimizerKind.Sgd };
        SweepTrial[] trials = [new(Seed, sgd with { LearningRate = 1e4 }), new(Seed, sgd with { LearningRate = 1e-2 })];

        var result = SweepTrainer.Train(data, new SweepSpec("price", TestData.HouseFeatures, trials), null, CancellationToken.None);

        Assert.Equal([1, 0], result.Leaderboard.Select(t => t.Trial));
        Assert.Null(result.Leaderboard[1].Score);
        Assert.Contains("diverged", result.Leaderboard[1].Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void Fewer_than_two_folds_are_refused(int folds)
    {
        var spec = new SweepSpec("price", TestData.HouseFeatures, [new(Seed, Short)], folds);

        var error = Assert.Throws<ArgumentException>(() => SweepTrainer.Train(TestData.HousePrices(50, 1), spec, null, CancellationToken.None));
        Assert.Contains("folds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trial_without_validation_rows_is_refused()
    {
        var spec = new SweepSpec("price", TestData.HouseFeatures, [new(Seed, Short with { ValidationFraction = 0 })]);

        var error = Assert.Throws<ArgumentException>(() => SweepTrainer.Train(TestData.HousePrices(50, 1), spec, null, CancellationToken.None));
        Assert.Contains("validationFraction", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metric_wire_names_round_trip()
    {
        Assert.Equal(["rmse", "mae"], SweepMetricNames.All);
        Assert.All(Enum.GetValues<SweepMetric>(), m => Assert.True(SweepMetricNames.TryParse(SweepMetricNames.ToWireName(m), out var back) && back == m));
        Assert.False(SweepMetricNames.TryParse("RMSE", out _));
    }
}
