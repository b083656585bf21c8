using ModelService.Model.Data;
using ModelService.Model.Inference;
using ModelService.Model.Network;
using ModelService.Model.Training;

namespace ModelService.Model.Tests.Training;

public sealed class TrainerTests
{
    private static readonly TrainingOptions Short = new() { Epochs = 5 };

    [Fact]
    public void Seed_job_predicts_held_out_rows_within_an_rmse_of_6000()
    {
        var model = TestData.SeedModel;
        var test = TestData.HousePrices(rows: 1000, seed: 8);
        var predictions = new double[test.RowCount];

        new Predictor(model).Predict(TestData.Rows(test, TestData.HouseFeatures), test.RowCount, predictions);

        var prices = test["price"].Numbers!;
        var rmse = Math.Sqrt(predictions.Select((p, r) => (p - prices[r]) * (p - prices[r])).Average());
        Assert.True(rmse < 6000, $"test RMSE {rmse:F0}");
        var m = model.Manifest;
        Assert.Equal((800, 200, 0), (m.Training.TrainRows, m.Training.ValidationRows, m.Training.DroppedRows));
        Assert.Equal(50, m.Training.History.Count);
        Assert.Equal(193, m.Network.ParameterCount);
        Assert.True(m.Metrics.Validation!.R2 > 0.99);
    }

    [Fact]
    public void Same_seed_gives_identical_weights_and_another_seed_differs()
    {
        var data = TestData.HousePrices(rows: 300, seed: 1);

        var first = Train(data, Short with { Seed = 42 });
        var again = Train(data, Short with { Seed = 42 });
        var other = Train(data, Short with { Seed = 43 });

        Assert.Equal(first.Weights.SelectMany(w => w.Values), again.Weights.SelectMany(w => w.Values));
        Assert.Equal(first.Manifest.WeightsSha256, again.Manifest.WeightsSha256);
        Assert.NotEqual(first.Manifest.WeightsSha256, other.Manifest.WeightsSha256);
    }

    [Fact]
    public void Cancellation_stops_before_the_next_batch()
    {
        var data = TestData.HousePrices(rows: 1000, seed: 1);
        using var cts = new CancellationTokenSource();
        var batches = 0;
        var epochs = 0;

        void OnBatch(int steps)
        {
            batches = steps;
            if (steps == 5)
            {
                cts.Cancel();
            }
        }

        Assert.ThrowsAny<OperationCanceledException>(
            () => Trainer.Train(data, TestData.SeedSpec(), _ => epochs++, OnBatch, cts.Token));
        Assert.Equal(5, batches);
        Assert.Equal(0, epochs);
    }

    [Fact]
    public void An_already_cancelled_token_trains_nothing()
    {
        var batches = 0;

        Assert.ThrowsAny<OperationCanceledException>(() => Trainer.Train(
            TestData.HousePrices(100, 1), TestData.SeedSpec(), null, _ => batches++, new CancellationToken(canceled: true)));
        Assert.Equal(0, batches);
    }

    [Fact]
    public void Progress_is_reported_once_per_epoch_in_order()
    {
        var reports = new List<EpochProgress>();

        var model = Trainer.Train(TestData.HousePrices(200, 1), TestData.SeedSpec(Short), reports.Add, CancellationToken.None);

        Assert.Equal([1, 2, 3, 4, 5], reports.Select(r => r.Epoch));
        Assert.All(reports, r => Assert.Equal(5, r.Epochs));
        Assert.All(reports, r => Assert.NotNull(r.ValidationLoss));
        Assert.True(reports[^1].TrainLoss < reports[0].TrainLoss);
        Assert.Equal(reports.Select(r => r.TrainLoss), model.Manifest.Training.History.Select(h => h.TrainLoss));
    }

    [Fact]
    public void Rows_without_a_target_are_dropped_and_counted()
    {
        var data = TestData.HousePrices(rows: 100, seed: 1);
        var prices = (double[])data["price"].Numbers!.Clone();
        for (var r = 0; r < 100; r += 10)
        {
            prices[r] = double.NaN;
        }
        var table = new DataTable([data["square_footage"], data["rooms"], DataColumn.Numeric("price", prices)]);

        var model = Train(table, Short);

        Assert.Equal(10, model.Manifest.Training.DroppedRows);
        Assert.Equal(90, model.Manifest.Training.TrainRows + model.Manifest.Training.ValidationRows);
        Assert.Equal(18, model.Manifest.Training.ValidationRows);
    }

    [Fact]
    public void No_validation_fraction_trains_on_every_row_without_a_validation_loss()
    {
        var model = Train(TestData.HousePrices(rows: 120, seed: 1), Short with { ValidationFraction = 0 });

        Assert.Equal((120, 0), (model.Manifest.Training.TrainRows, model.Manifest.Training.ValidationRows));
        Assert.All(model.Manifest.Training.History, h => Assert.Null(h.ValidationLoss));
        Assert.Null(model.Manifest.Metrics.Validation);
    }

    [Fact]
    public void Early_stopping_restores_the_weights_of_the_best_epoch()
    {
        var options = new TrainingOptions { Epochs = 300, LearningRate = 0.01, EarlyStoppingPatience = 3 };

        var model = Train(TestData.HousePrices(rows: 300, seed: 1), options);

        var training = model.Manifest.Training;
        Assert.True(training.Epochs < 300, "early stopping should have ended training");
        Assert.Equal(training.Epochs - 3, training.BestEpoch);
        var bestLoss = training.History[training.BestEpoch - 1].ValidationLoss!.Value;
        Assert.Equal(bestLoss, training.History.Min(h => h.ValidationLoss!.Value));
        var expectedRmse = Math.Sqrt(bestLoss) * model.Manifest.TargetScaling.Std;
        Assert.Equal(expectedRmse, model.Manifest.Metrics.Validation!.Rmse, expectedRmse * 1e-3);
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, 0.0)]
    [InlineData(OptimizerKind.Adam, 0.01)]
    [InlineData(OptimizerKind.AdamW, 0.01)]
    [InlineData(OptimizerKind.Sgd, 0.0)]
    [InlineData(OptimizerKind.Sgd, 0.001)]
    public void Every_optimizer_reduces_the_loss(OptimizerKind optimizer, double weightDecay)
    {
        var options = new TrainingOptions { Epochs = 8, Optimizer = optimizer, WeightDecay = weightDecay, LearningRate = 0.01 };

        var history = Train(TestData.HousePrices(rows: 300, seed: 1), options).Manifest.Training.History;

        Assert.True(history[^1].TrainLoss < history[0].TrainLoss * 0.5, $"{history[0].TrainLoss} -> {history[^1].TrainLoss}");
    }

    [Fact]
    public void Categorical_features_of_real_data_train_to_a_useful_model()
    {
        var table = TestData.California();
        var features = table.Columns.Select(c => c.Name).Where(n => n != "median_house_value").ToArray();
        var spec = new TrainingRequestSpec("median_house_value", features, new NetworkOptions([32, 16], BatchNorm: true),
            new TrainingOptions { Epochs = 40, LearningRate = 0.01 });

        var model = Trainer.Train(table, spec, null, CancellationToken.None);

        Assert.Equal(12, model.Preprocessor.InputWidth);
        Assert.True(model.Manifest.Metrics.Validation!.R2 > 0.5, $"validation R² {model.Manifest.Metrics.Validation.R2:F3}");
    }

    [Fact]
    public void A_diverging_run_fails_with_a_clear_message()
    {
        var options = new TrainingOptions { Epochs = 5, Optimizer = OptimizerKind.Sgd, LearningRate = 1e12 };

        var error = Assert.Throws<InvalidOperationException>(() => Train(TestData.HousePrices(rows: 200, seed: 1), options));

        Assert.Contains("diverged", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_requests_are_refused()
    {
        var data = TestData.HousePrices(rows: 50, seed: 1);

        Assert.Throws<ArgumentException>(() => Train(data, Short with { Epochs = 0 }));
        Assert.Throws<ArgumentException>(() => Train(data, Short with { LearningRate = 0 }));
        Assert.Throws<ArgumentException>(() => Train(data, Short with { ValidationFraction = 1 }));
        Assert.Throws<ArgumentException>(() => Train(data, Short with { BatchSize = 1 }, new NetworkOptions([4], BatchNorm: true)));
        Assert.Throws<ArgumentException>(() => Train(data, Short, new NetworkOptions([4], Dropout: 1)));
        Assert.Throws<ArgumentException>(() => Trainer.Train(data,
            new TrainingRequestSpec("price", ["square_footage", "nope"], new NetworkOptions([4]), Short), null, CancellationToken.None));
        Assert.Throws<ArgumentException>(() => Trainer.Train(data,
            new TrainingRequestSpec("price", ["price"], new NetworkOptions([4]), Short), null, CancellationToken.None));
    }

    private static ModelService.Model.Artifacts.TrainedModel Train(DataTable data, TrainingOptions options, NetworkOptions? network = null) =>
        Trainer.Train(data, TestData.SeedSpec(options, network), null, CancellationToken.None);
}
