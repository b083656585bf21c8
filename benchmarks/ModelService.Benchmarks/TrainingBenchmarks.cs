using BenchmarkDotNet.Attributes;
using ModelService.Model.Data;
using ModelService.Model.Training;

namespace ModelService.Benchmarks;

/// <summary>The seed job (1000 rows, 16-8 relu, Adam 1e-3, batch 16) through <see cref="Trainer.Train(DataTable, TrainingRequestSpec, Action{EpochProgress}?, CancellationToken)"/>:
/// one epoch (dominated by set-up) and the full 50 epochs, with one and two LibTorch threads.</summary>
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    private DataTable _data = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup() => _data = SeedExample.HousePrices(1000, seed: 7);

    [Benchmark]
    public int OneEpoch() => Trainer.Train(_data, Fixtures.SeedSpec(epochs: 1, threads: Threads), null, CancellationToken.None)
        .Manifest.Training!.Epochs;

    [Benchmark(Baseline = true)]
    public int SeedJob() => Trainer.Train(_data, Fixtures.SeedSpec(threads: Threads), null, CancellationToken.None)
        .Manifest.Training!.Epochs;
}
