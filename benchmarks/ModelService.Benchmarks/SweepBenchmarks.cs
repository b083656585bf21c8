using BenchmarkDotNet.Attributes;
using ModelService.Model.Data;
using ModelService.Model.Training;
using ModelService.Model.Training.Batched;

namespace ModelService.Benchmarks;

/// <summary>The seed job's 16-trial grid trained as one batch, against one seed trial alone (the baseline) and the 16
/// trials alone one after another.</summary>
public class SweepBenchmarks
{
    private DataTable _data = null!;
    private TrainingRun[] _runs = null!;

    [Params(1)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = SeedExample.HousePrices(1000, seed: 7);
        _runs = SweepGrid.Runs(Threads);
    }

    [Benchmark(Baseline = true)]
    public int OneTrialAlone() => Trainer.Train(_data, _runs[5].Spec, null, CancellationToken.None).Manifest.Training.Epochs;

    [Benchmark]
    public int SixteenTrialsBatched() => BatchedTrainer.Train(_data, _runs, null, CancellationToken.None).Count;

    [Benchmark]
    public int SixteenTrialsAlone() => _runs.Sum(r => Trainer.Train(_data, r.Spec, null, CancellationToken.None).Manifest.Training.Epochs);
}
