using ModelService.Model.Network;
using ModelService.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelService.Model.Tests.Training;

public sealed class FlatOptimizerTests
{
    [Theory]
    [InlineData(OptimizerKind.Adam, 0.0)]
    [InlineData(OptimizerKind.Adam, 0.01)]
    [InlineData(OptimizerKind.AdamW, 0.01)]
    [InlineData(OptimizerKind.Sgd, 0.0)]
    [InlineData(OptimizerKind.Sgd, 0.01)]
    public void Updates_match_TorchSharps_own_optimizer(OptimizerKind kind, double weightDecay)
    {
        var options = new TrainingOptions { Optimizer = kind, LearningRate = 0.01, WeightDecay = weightDecay };
        var spec = new NetworkSpec(1, 1, 3, [8, 4]);
        using var ours = Network(spec);
        using var reference = Network(spec);
        using var optimizer = new FlatOptimizer(ours.FlatParameter, options, totalSteps: 25);
        using var torchOptimizer = TorchOptimizer(reference.FlatParameter, options);
        using var inputGenerator = new Generator(11);
        using var x = randn([32, 3], generator: inputGenerator);
        using var y = randn([32, 1], generator: inputGenerator);

        for (var step = 0; step < 25; step++)
        {
            TakeStep(ours, x, y, optimizer.Step);
            TakeStep(reference, x, y, () => torchOptimizer.step());
        }

        using var difference = (ours.FlatParameter - reference.FlatParameter).abs().max();
        Assert.True(difference.item<float>() < 1e-6f, $"parameters differ by {difference.item<float>()}");
        using var moved = (ours.FlatParameter - Network(spec).FlatParameter).abs().max();
        Assert.True(moved.item<float>() > 1e-3f, "the optimizer did not change the parameters");
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, 0.0)]
    [InlineData(OptimizerKind.AdamW, 0.01)]
    [InlineData(OptimizerKind.Sgd, 0.01)]
    public void A_cosine_schedule_matches_TorchSharps_cosine_annealing_stepped_every_batch(OptimizerKind kind, double weightDecay)
    {
        const int steps = 20;
        var options = new TrainingOptions
        {
            Optimizer = kind, LearningRate = 0.05, WeightDecay = weightDecay, LearningRateSchedule = LearningRateSchedule.Cosine,
        };
        var spec = new NetworkSpec(1, 1, 3, [8, 4]);
        using var ours = Network(spec);
        using var reference = Network(spec);
        using var constant = Network(spec);
        using var optimizer = new FlatOptimizer(ours.FlatParameter, options, steps);
        using var constantOptimizer = new FlatOptimizer(constant.FlatParameter, options with { LearningRateSchedule = LearningRateSchedule.Constant }, steps);
        using var torchOptimizer = TorchOptimizer(reference.FlatParameter, options);
        var annealing = optim.lr_scheduler.CosineAnnealingLR(torchOptimizer, steps);
        using var inputGenerator = new Generator(11);
        using var x = randn([32, 3], generator: inputGenerator);
        using var y = randn([32, 1], generator: inputGenerator);

        for (var step = 0; step < steps; step++)
        {
            TakeStep(ours, x, y, optimizer.Step);
            TakeStep(constant, x, y, constantOptimizer.Step);
            TakeStep(reference, x, y, () => torchOptimizer.step());
            annealing.step();
        }

        using var difference = (ours.FlatParameter - reference.FlatParameter).abs().max();
        Assert.True(difference.item<float>() < 1e-6f, $"parameters differ by {difference.item<float>()}");
        using var fromConstant = (ours.FlatParameter - constant.FlatParameter).abs().max();
        Assert.True(fromConstant.item<float>() > 1e-3f, "the schedule did not change the updates");
    }

    [Fact]
    public void The_cosine_factor_starts_at_one_halves_midway_and_approaches_zero_at_the_last_step()
    {
        Assert.Equal(1, LearningRateSchedule.Cosine.Factor(0, 100));
        Assert.Equal(0.5, LearningRateSchedule.Cosine.Factor(50, 100), 12);
        Assert.InRange(LearningRateSchedule.Cosine.Factor(99, 100), 1e-5, 1e-3);
        Assert.Equal(1, LearningRateSchedule.Constant.Factor(99, 100));
        Assert.Equal(16 * 7, LearningRateSchedules.TotalSteps(new TrainingOptions { Epochs = 16, BatchSize = 16 }, 100));
    }

    private static ConvRegressor Network(NetworkSpec spec)
    {
        using var generator = new Generator(5);
        return new ConvRegressor(spec, generator);
    }

    private static optim.Optimizer TorchOptimizer(TorchSharp.Modules.Parameter parameter, TrainingOptions options) => options.Optimizer switch
    {
        OptimizerKind.Adam => optim.Adam([parameter], options.LearningRate, weight_decay: options.WeightDecay),
        OptimizerKind.AdamW => optim.AdamW([parameter], options.LearningRate, weight_decay: options.WeightDecay),
        _ => optim.SGD([parameter], options.LearningRate, weight_decay: options.WeightDecay),
    };

    private static void TakeStep(ConvRegressor network, Tensor x, Tensor y, Action step)
    {
        using var scope = NewDisposeScope();
        network.train();
        var loss = nn.functional.mse_loss(network.forward(x), y);
        network.ZeroGradients();
        loss.backward();
        step();
    }
}
