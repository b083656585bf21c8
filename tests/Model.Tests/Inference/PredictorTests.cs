using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Inference;
using ModelService.Model.Network;
using ModelService.Model.Training;

namespace ModelService.Model.Tests.Inference;

public sealed class PredictorTests
{
    [Fact]
    public void Concurrent_predictions_equal_sequential_ones()
    {
        var predictor = new Predictor(TestData.SeedModel);
        var rows = TestData.Rows(TestData.HousePrices(2000, 4), TestData.HouseFeatures);
        var sequential = new double[2000];
        predictor.Predict(rows, 2000, sequential);

        var results = new double[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var mine = new double[2000];
            for (var r = 0; r < 2000; r++)
            {
                // Alternate single rows and small batches so callers overlap in every code path.
                var count = Math.Min((r + t) % 3 == 0 ? 1 : 7, 2000 - r);
                predictor.Predict(rows.AsSpan(r * 2, count * 2), count, mine.AsSpan(r, count));
                r += count - 1;
            }
            results[t] = mine;
        });

        Assert.All(results, r => Assert.Equal(sequential, r));
    }

    [Theory]
    [InlineData(1, 1, 2, new[] { 16, 8 }, Activation.Relu, false)]
    [InlineData(1, 1, 13, new[] { 64, 64 }, Activation.Relu, true)]
    [InlineData(1, 1, 5, new[] { 9, 3 }, Activation.LeakyRelu, true)]
    [InlineData(1, 1, 5, new[] { 7 }, Activation.Gelu, false)]
    [InlineData(1, 1, 4, new[] { 6, 5 }, Activation.Tanh, true)]
    [InlineData(1, 1, 4, new[] { 33, 5 }, Activation.Sigmoid, false)]
    [InlineData(2, 3, 2, new[] { 5, 3 }, Activation.Relu, true)]
    [InlineData(1, 1, 3, new int[0], Activation.Relu, false)]
    public void A_row_gets_the_same_bits_alone_and_in_any_batch(int height, int width, int channels, int[] hidden, Activation activation,
        bool batchNorm)
    {
        var spec = new NetworkSpec(height, width, channels, hidden, activation, BatchNorm: batchNorm);
        var predictor = new Predictor(RandomModel.Create(spec, seed: 7));
        const int rowCount = 600; // two whole blocks of 256 and a partial one
        var random = new Random(3);
        var rows = Enumerable.Range(0, rowCount * spec.InputSize).Select(_ => FeatureValue.FromNumber((random.NextDouble() * 6) - 3)).ToArray();

        var batched = new double[rowCount];
        predictor.Predict(rows, rowCount, batched);
        var alone = new double[rowCount];
        for (var r = 0; r < rowCount; r++)
        {
            predictor.Predict(rows.AsSpan(r * spec.InputSize, spec.InputSize), 1, alone.AsSpan(r, 1));
        }
        var inSmallBatches = new double[rowCount];
        for (var r = 0; r < rowCount; r += 37)
        {
            var count = Math.Min(37, rowCount - r);
            predictor.Predict(rows.AsSpan(r * spec.InputSize, count * spec.InputSize), count, inSmallBatches.AsSpan(r, count));
        }

        Assert.Equal(alone, batched);
        Assert.Equal(alone, inSmallBatches);
        Assert.True(batched.Distinct().Count() > rowCount / 2, "predictions should vary with the input");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Plain_numbers_get_the_same_bits_as_feature_values(bool seedModel)
    {
        // The seed model standardises with its training mean and std; the random one has five features and batch norm.
        var model = seedModel ? TestData.SeedModel : RandomModel.Create(new NetworkSpec(1, 1, 5, [9, 3], Activation.Relu, BatchNorm: true), 5);
        var predictor = new Predictor(model);
        var width = model.Manifest.Features.Count;
        const int rowCount = 1001; // whole blocks, a partial one and a partial vector
        var random = new Random(9);
        var doubles = Enumerable.Range(0, rowCount * width).Select(i => i % 97 == 0 ? double.NaN : (random.NextDouble() * 6) - 3).ToArray();
        var floats = doubles.Select(d => (float)d).ToArray();
        static FeatureValue Value(double d) => double.IsNaN(d) ? FeatureValue.Missing : FeatureValue.FromNumber(d);

        var fromFloatValues = new double[rowCount];
        predictor.Predict(floats.Select(f => Value(f)).ToArray(), rowCount, fromFloatValues);
        var fromFloats = new double[rowCount];
        predictor.PredictNumbers<float>(floats, rowCount, fromFloats);
        var fromDoubleValues = new double[rowCount];
        predictor.Predict(doubles.Select(Value).ToArray(), rowCount, fromDoubleValues);
        var fromDoubles = new double[rowCount];
        predictor.PredictNumbers<double>(doubles, rowCount, fromDoubles);

        Assert.Equal(fromFloatValues, fromFloats);
        Assert.Equal(fromDoubleValues, fromDoubles);
        Assert.True(fromDoubles.Distinct().Count() > rowCount / 2, "predictions should vary with the input");
    }

    [Fact]
    public void A_missing_value_is_imputed_with_the_value_fitted_for_its_feature()
    {
        var predictor = new Predictor(TestData.SeedModel);
        var median = TestData.SeedModel.Manifest.Features[1].ImputeValue!.Value;

        var predictions = new double[2];
        predictor.Predict([FeatureValue.FromNumber(0.25), FeatureValue.Missing, FeatureValue.FromNumber(0.25), FeatureValue.FromNumber(median)],
            2, predictions);

        Assert.Equal(predictions[1], predictions[0]);
    }

    [Fact]
    public void Wrong_row_lengths_are_refused()
    {
        var predictor = new Predictor(TestData.SeedModel);

        Assert.Throws<ArgumentException>(() => predictor.Predict([FeatureValue.FromNumber(1)], 1, new double[1]));
        Assert.Throws<ArgumentException>(() => predictor.Predict([FeatureValue.FromNumber(1), FeatureValue.FromNumber(1)], 1, new double[2]));
    }

    [Theory]
    [InlineData(Activation.Relu, false, 0.0)]
    [InlineData(Activation.Relu, true, 0.0)]
    [InlineData(Activation.LeakyRelu, true, 0.0)]
    [InlineData(Activation.Gelu, true, 0.0)]
    [InlineData(Activation.Gelu, false, 0.2)]
    [InlineData(Activation.Tanh, true, 0.2)]
    [InlineData(Activation.Sigmoid, true, 0.0)]
    [InlineData(Activation.Sigmoid, false, 0.0)]
    public void Managed_predictions_match_the_TorchSharp_network(Activation activation, bool batchNorm, double dropout)
    {
        var data = TestData.California();
        var features = data.Columns.Select(c => c.Name).Where(n => n != "median_house_value").ToArray();
        var spec = new TrainingRequestSpec("median_house_value", features, new NetworkOptions([12, 6], activation, dropout, batchNorm),
            new TrainingOptions { Epochs = 4, LearningRate = 0.01 });
        var model = Trainer.Train(data, spec, null, CancellationToken.None);
        var rows = TestData.Rows(data, features);

        AssertManagedMatchesTorch(model, rows, data.RowCount);
    }

    [Fact]
    public void Managed_predictions_match_the_TorchSharp_network_on_multi_position_inputs()
    {
        var spec = new NetworkSpec(2, 2, 2, [5, 3], Activation.Gelu, BatchNorm: true);
        var model = RandomModel.Create(spec, seed: 11);
        var data = TestData.HousePrices(rows: 64, seed: 5);
        var rows = Enumerable.Range(0, 64 * 8)
            .Select(i => FeatureValue.FromNumber(data["price"].Numbers![i / 8] / 1e5 * ((i % 8) - 3.5)))
            .ToArray();

        AssertManagedMatchesTorch(model, rows, 64);
    }

    [Fact]
    public void Erfc_is_accurate_to_about_one_part_in_ten_million()
    {
        var x = Enumerable.Range(-600, 1201).Select(i => i / 100.0).ToArray();
        using var reference = TorchSharp.torch.tensor(x).erfc();
        var expected = reference.data<double>().ToArray();

        for (var i = 0; i < x.Length; i++)
        {
            var error = Math.Abs(Activations.Erfc(x[i]) - expected[i]) / expected[i];
            Assert.True(error < 2e-7, $"erfc({x[i]}) relative error {error:E2}");
        }
    }

    private static void AssertManagedMatchesTorch(TrainedModel model, FeatureValue[] rows, int rowCount)
    {
        var managed = new double[rowCount];
        var reference = new double[rowCount];
        new Predictor(model).Predict(rows, rowCount, managed);
        using (var torch = new TorchForward(model))
        {
            torch.Predict(rows, rowCount, reference);
        }

        var scale = model.Manifest.TargetScaling.Std;
        for (var r = 0; r < rowCount; r++)
        {
            var tolerance = 1e-4 * Math.Max(Math.Abs(reference[r]), scale);
            Assert.True(Math.Abs(managed[r] - reference[r]) <= tolerance, $"row {r}: managed {managed[r]}, torch {reference[r]}");
        }
        Assert.True(managed.Distinct().Count() > rowCount / 2, "predictions should vary with the input");
    }
}
