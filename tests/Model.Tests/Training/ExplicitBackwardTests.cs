using ModelService.Model.Network;
using ModelService.Model.Training;
using static TorchSharp.torch;

namespace ModelService.Model.Tests.Training;

public sealed class ExplicitBackwardTests
{
    public static TheoryData<int[], int, int> Shapes => new()
    {
        { [16, 8], 4, 4 },
        { [16, 8], 4, 3 }, // the epoch's last, smaller batch
        { [5], 2, 2 },
        { [7, 6, 5], 3, 3 },
        { [], 2, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gradient_and_batch_loss_match_autograds(int[] hidden, int batchSize, int samples)
    {
        var spec = PerPosition(hidden);
        using var network = Network(spec);
        using var inputGenerator = new Generator(11);
        using var x = randn([samples, spec.InputSize], generator: inputGenerator);
        using var y = randn([samples, spec.Positions], generator: inputGenerator);

        var (expectedGradient, expectedLoss) = AutogradStep(network, x, y);
        using var backward = ExplicitBackward.For(network, batchSize)!;
        using var gradient = network.FlatParameter.grad!;
        gradient.fill_(7); // every value must be overwritten
        using var lossSum = zeros(1, ScalarType.Float64);
        ExplicitStep(backward, x, y, lossSum);

        using var difference = (gradient - expectedGradient).abs().max();
        using var largest = expectedGradient.abs().max();
        Assert.True(largest.item<float>() > 1e-3f, "the gradient should not vanish");
        Assert.True(difference.item<float>() < 1e-5f * largest.item<float>(), $"gradients differ by {difference.item<float>()}");
        Assert.Equal(expectedLoss, lossSum.item<double>(), 1e-5 * expectedLoss);
        expectedGradient.Dispose();
    }

    [Fact]
    public void Adam_steps_on_the_explicit_gradient_reach_autograds_weights()
    {
        var spec = PerPosition([16, 8]);
        var options = new TrainingOptions { LearningRate = 0.01 };
        using var ours = Network(spec);
        using var reference = Network(spec);
        using var backward = ExplicitBackward.For(ours, 4)!;
        using var optimizer = new FlatOptimizer(ours.FlatParameter, options, totalSteps: 30);
        using var referenceOptimizer = new FlatOptimizer(reference.FlatParameter, options, totalSteps: 30);
        using var inputGenerator = new Generator(3);
        using var x = randn([4, spec.InputSize], generator: inputGenerator);
        using var y = randn([4, spec.Positions], generator: inputGenerator);
        using var lossSum = zeros(1, ScalarType.Float64);

        for (var step = 0; step < 30; step++)
        {
            ExplicitStep(backward, x, y, lossSum);
            optimizer.Step();
            AutogradStep(reference, x, y).Gradient.Dispose();
            referenceOptimizer.Step();
        }

        using var difference = (ours.FlatParameter - reference.FlatParameter).abs().max();
        Assert.True(difference.item<float>() < 1e-5f, $"weights differ by {difference.item<float>()}");
        using var initial = Network(spec);
        using var moved = (ours.FlatParameter - initial.FlatParameter).abs().max();
        Assert.True(moved.item<float>() > 1e-2f, "training did not change the weights");
    }

    [Fact]
    public void Networks_it_does_not_cover_fall_back_to_autograd()
    {
        Assert.True(ExplicitBackward.Supports(PerPosition([16, 8])));
        Assert.False(ExplicitBackward.Supports(PerPosition([16, 8]) with { Head = Head.FlattenDense }));
        Assert.False(ExplicitBackward.Supports(PerPosition([16, 8]) with { Activation = Activation.LeakyRelu }));
        Assert.False(ExplicitBackward.Supports(PerPosition([16, 8]) with { Dropout = 0.1 }));
        Assert.False(ExplicitBackward.Supports(PerPosition([16, 8]) with { BatchNorm = true }));
        using var dense = Network(new NetworkSpec(1, 1, 3, [8, 4]));
        Assert.Null(ExplicitBackward.For(dense, 16));
    }

    private static NetworkSpec PerPosition(int[] hidden) => new(3, 5, 4, hidden, Head: Head.PerPosition);

    private static ConvRegressor Network(NetworkSpec spec)
    {
        using var generator = new Generator(5);
        return new ConvRegressor(spec, generator);
    }

    private static void ExplicitStep(ExplicitBackward backward, Tensor x, Tensor y, Tensor lossSum)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        lossSum.zero_();
        backward.Step(x, y, lossSum);
    }

    /// <summary>The gradient autograd leaves in the flat gradient (a copy) and the batch loss the loop adds (mean squared
    /// error times samples).</summary>
    private static (Tensor Gradient, double Loss) AutogradStep(ConvRegressor network, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        network.train();
        var loss = nn.functional.mse_loss(network.forward(x), y);
        network.ZeroGradients();
        loss.backward();
        using var gradient = network.FlatParameter.grad!;
        return (gradient.clone().DetachFromDisposeScope(), loss.item<float>() * (double)x.shape[0]);
    }
}
