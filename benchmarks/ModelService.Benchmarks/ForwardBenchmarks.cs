using BenchmarkDotNet.Attributes;
using ModelService.Model.Data;
using ModelService.Model.Inference;
using ModelService.Model.Tests.Inference;

namespace ModelService.Benchmarks;

/// <summary>The seed model's forward pass, raw rows in and predictions in dollars out: the managed
/// <see cref="Predictor"/> that serves requests against TorchSharp's module (<see cref="TorchForward"/>).</summary>
[MemoryDiagnoser]
public class ForwardBenchmarks : IDisposable
{
    private Predictor _predictor = null!;
    private TorchForward _torch = null!;
    private FeatureValue[] _rows = null!;
    private double[] _predictions = null!;

    [Params(1, 100_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var model = Fixtures.TrainSeedModel();
        _predictor = new Predictor(model);
        _torch = new TorchForward(model);
        _rows = Fixtures.Rows(Rows, seed: 11);
        _predictions = new double[Rows];
    }

    [GlobalCleanup]
    public void Dispose() => _torch?.Dispose();

    [Benchmark(Baseline = true)]
    public double Managed()
    {
        _predictor.Predict(_rows, Rows, _predictions);
        return _predictions[0];
    }

    [Benchmark]
    public double TorchSharp()
    {
        _torch.Predict(_rows, Rows, _predictions);
        return _predictions[0];
    }
}
