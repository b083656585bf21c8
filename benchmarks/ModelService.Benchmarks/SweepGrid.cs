using ModelService.Model.Training;
using ModelService.Model.Training.Batched;

namespace ModelService.Benchmarks;

/// <summary>The seed job's 16-trial grid: learning rates 3e-4, 1e-3, 3e-3, 1e-2 x weight decays 0, 1e-4, 1e-3, 1e-2
/// (as benchmarks/peers/pytorch_sweep.py).</summary>
internal static class SweepGrid
{
    public static readonly double[] LearningRates = [3e-4, 1e-3, 3e-3, 1e-2];
    public static readonly double[] WeightDecays = [0, 1e-4, 1e-3, 1e-2];

    public static TrainingRun[] Runs(int threads)
    {
        var seed = Fixtures.SeedSpec(threads: threads);
        return LearningRates.SelectMany(rate => WeightDecays.Select(decay =>
            new TrainingRun(seed with { Options = seed.Options with { LearningRate = rate, WeightDecay = decay } }))).ToArray();
    }
}
