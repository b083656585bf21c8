using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Inference;
using ModelService.Model.Network;
using ModelService.Model.Training;

namespace ModelService.Model.Tests.Inference;

public sealed class TensorPredictorTests
{
    private static readonly Lazy<TrainedModel> s_perPosition8x8 = new(() => Trainer.Train(
        TensorTestData.Bands(count: 120, height: 8, width: 8, seed: 21),
        new TrainingRequestSpec("y", [], new NetworkOptions([16, 8]), new TrainingOptions { Epochs = 5, LearningRate = 0.01 }),
        null, CancellationToken.None));

    [Theory]
    [InlineData(Head.PerPosition, Activation.Relu, false)]
    [InlineData(Head.PerPosition, Activation.Gelu, true)]
    [InlineData(Head.PerPosition, Activation.Sigmoid, true)]
    [InlineData(Head.FlattenDense, Activation.Relu, false)]
    [InlineData(Head.FlattenDense, Activation.Tanh, true)]
    [InlineData(Head.FlattenDense, Activation.LeakyRelu, true)]
    public void Managed_tensor_predictions_match_the_TorchSharp_network(Head head, Activation activation, bool batchNorm)
    {
        var model = RandomModel.CreateTensor(new NetworkSpec(4, 5, 3, [9, 6], activation, BatchNorm: batchNorm, Head: head), seed: 13);
        const int count = 70;
        var x = TensorTestData.Uniform(count, 4, 5, 3, seed: 14);
        x[7] = float.NaN;

        var managed = new double[head == Head.PerPosition ? count * 20 : count];
        new Predictor(model).PredictTensor(x, count, 4, 5, managed);
        double[] reference;
        using (var torch = new TorchForward(model))
        {
            reference = torch.PredictTensor(x, count, 4, 5);
        }

        Assert.Equal(reference.Length, managed.Length);
        for (var i = 0; i < managed.Length; i++)
        {
            var tolerance = 1e-4 * Math.Max(Math.Abs(reference[i]), 2);
            Assert.True(Math.Abs(managed[i] - reference[i]) <= tolerance, $"output {i}: managed {managed[i]}, torch {reference[i]}");
        }
        Assert.True(managed.Distinct().Count() > managed.Length / 2, "predictions should vary with the input");
    }

    [Theory]
    [InlineData(Head.PerPosition)]
    [InlineData(Head.FlattenDense)]
    public void A_sample_gets_the_same_bits_alone_and_in_any_batch(Head head)
    {
        var predictor = new Predictor(RandomModel.CreateTensor(new NetworkSpec(3, 3, 2, [7, 5], Head: head), seed: 15));
        const int count = 300;
        var x = TensorTestData.Uniform(count, 3, 3, 2, seed: 16);
        var per = head == Head.PerPosition ? 9 : 1;

        var batched = new double[count * per];
        predictor.PredictTensor(x, count, 3, 3, batched);
        var alone = new double[count * per];
        for (var n = 0; n < count; n++)
        {
            predictor.PredictTensor(x.AsSpan(n * 18, 18), 1, 3, 3, alone.AsSpan(n * per, per));
        }

        Assert.Equal(alone, batched);
    }

    [Fact]
    public void A_per_position_model_trained_on_8x8_predicts_a_16x16_input_with_the_same_weights_at_every_position()
    {
        var model = s_perPosition8x8.Value;
        var predictor = new Predictor(model);
        var large = TensorTestData.Bands(count: 3, height: 16, width: 16, seed: 22);

        var whole = new double[3 * 256];
        predictor.PredictTensor(large.X, 3, 16, 16, whole);

        // Each position, cut out as a 1x1 sample, and each 8x8 quadrant, cut out as a sample of the trained shape, gets
        // exactly the prediction it got inside the 16x16 input.
        var one = new double[1];
        var quadrant = new float[8 * 8 * 3];
        var quadrantPredictions = new double[64];
        for (var n = 0; n < 3; n++)
        {
            for (var p = 0; p < 256; p++)
            {
                predictor.PredictTensor(large.X.AsSpan(((n * 256) + p) * 3, 3), 1, 1, 1, one);
                Assert.Equal(whole[(n * 256) + p], one[0]);
            }
            for (var q = 0; q < 4; q++)
            {
                var (top, left) = (q / 2 * 8, q % 2 * 8);
                for (var row = 0; row < 8; row++)
                {
                    large.X.AsSpan((((n * 16) + top + row) * 16 + left) * 3, 8 * 3).CopyTo(quadrant.AsSpan(row * 8 * 3));
                }
                predictor.PredictTensor(quadrant, 1, 8, 8, quadrantPredictions);
                for (var row = 0; row < 8; row++)
                {
                    Assert.Equal(whole.AsSpan((n * 256) + ((top + row) * 16) + left, 8).ToArray(), quadrantPredictions.AsSpan(row * 8, 8).ToArray());
                }
            }
        }
        var rmse = TensorTestData.Rmse(whole, large.Y);
        Assert.True(rmse < 0.5, $"16x16 RMSE {rmse:F3}");
        Assert.True(predictor.TakesTensors);
        Assert.True(predictor.PerPosition);
        Assert.Equal([8, 8, 3], predictor.InputShape);
        Assert.Equal([16, 16], predictor.OutputShape(16, 16));
        Assert.Equal(0, model.Manifest.Network.PositionDependentParameterCount);
    }

    [Fact]
    public void A_flatten_dense_model_takes_only_its_trained_height_and_width()
    {
        var predictor = new Predictor(RandomModel.CreateTensor(new NetworkSpec(4, 4, 2, [3]), seed: 17));

        var error = Assert.Throws<ArgumentException>(() => predictor.PredictTensor(new float[8 * 8 * 2], 1, 8, 8, new double[1]));

        Assert.Contains("[4, 4, 2]", error.Message, StringComparison.Ordinal);
        Assert.False(predictor.PerPosition);
        Assert.Empty(predictor.OutputShape(4, 4));
    }

    [Fact]
    public void Tensors_and_table_rows_go_only_to_models_that_take_them()
    {
        var tensorModel = new Predictor(RandomModel.CreateTensor(new NetworkSpec(2, 2, 2, [3], Head: Head.PerPosition), seed: 18));
        var tableModel = new Predictor(TestData.SeedModel);

        Assert.Throws<ArgumentException>(() => tensorModel.Predict([FeatureValue.FromNumber(1), FeatureValue.FromNumber(2)], 1, new double[1]));
        Assert.Throws<ArgumentException>(() => tensorModel.PredictNumbers<double>([1, 2], 1, new double[1]));
        Assert.Throws<ArgumentException>(() => tableModel.PredictTensor(new float[2], 1, 1, 1, new double[1]));
        Assert.False(tableModel.TakesTensors);
    }

    [Fact]
    public void Wrong_tensor_lengths_are_refused()
    {
        var predictor = new Predictor(RandomModel.CreateTensor(new NetworkSpec(2, 2, 2, [3], Head: Head.PerPosition), seed: 19));

        Assert.Throws<ArgumentException>(() => predictor.PredictTensor(new float[15], 2, 2, 2, new double[8]));
        Assert.Throws<ArgumentException>(() => predictor.PredictTensor(new float[16], 2, 2, 2, new double[2]));
        Assert.Throws<ArgumentException>(() => predictor.PredictTensor([], 1, 0, 2, Span<double>.Empty));
    }
}
