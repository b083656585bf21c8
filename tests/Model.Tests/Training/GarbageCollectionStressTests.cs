using ModelService.Model.Network;
using ModelService.Model.Training;
using ModelService.Model.Training.Batched;

namespace ModelService.Model.Tests.Training;

public sealed class GarbageCollectionStressTests
{
    // A service trains while request handling allocates and collects constantly. LibTorch must never see a scalar
    // argument that a finalizer freed during the call. With TorchSharp's own Adam an unbounded form of this test (two
    // threads collecting back to back for the whole run) failed within seconds ("Expected false to be true" from
    // c10::Scalar::toFloat inside add_), but it could also starve training for minutes, so collections here stop
    // after a few seconds: a smoke test of training under GC pressure, not a reliable reproduction.
    [Fact]
    public void Training_completes_while_other_threads_force_collections() => UnderCollections(() =>
    {
        var options = new TrainingOptions { Epochs = 4, BatchSize = 1, WeightDecay = 0.001, Optimizer = OptimizerKind.AdamW };
        var model = Trainer.Train(TestData.HousePrices(rows: 1000, seed: 2), TestData.SeedSpec(options), null, CancellationToken.None);

        Assert.Equal(4, model.Manifest.Training.History.Count);
    });

    [Fact]
    public void Per_position_training_completes_while_other_threads_force_collections() => UnderCollections(() =>
    {
        var options = new TrainingOptions { Epochs = 4, BatchSize = 1 };
        var spec = new TrainingRequestSpec("y", [], new NetworkOptions([16, 8]), options);
        var model = Trainer.Train(TensorTestData.Bands(count: 200, height: 4, width: 4, seed: 3), spec, null, CancellationToken.None);

        Assert.Equal(Head.PerPosition, model.Manifest.Network.Head);
        Assert.Equal(4, model.Manifest.Training.History.Count);
    });

    [Fact]
    public void Batched_training_completes_while_other_threads_force_collections() => UnderCollections(() =>
    {
        var options = new TrainingOptions { Epochs = 4, BatchSize = 2, WeightDecay = 0.001, Optimizer = OptimizerKind.AdamW };
        var network = new NetworkOptions([16, 8], Dropout: 0.1);
        TrainingRun[] runs = [new(TestData.SeedSpec(options, network)), new(TestData.SeedSpec(options with { LearningRate = 1e-2 }, network))];

        var results = BatchedTrainer.Train(TestData.HousePrices(rows: 1000, seed: 2), runs, null, CancellationToken.None);

        Assert.All(results, r => Assert.Equal(4, r.Model!.Manifest.Training.History.Count));
    });

    private static void UnderCollections(Action train)
    {
        using var stop = new CancellationTokenSource();
        var collectors = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            // Back-to-back collections can starve the training thread, so they stop after a few seconds.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!stop.IsCancellationRequested && clock.Elapsed < TimeSpan.FromSeconds(8))
            {
                GC.Collect(0);
            }
        }) { IsBackground = true }).ToList();
        collectors.ForEach(c => c.Start());
        try
        {
            train();
        }
        finally
        {
            stop.Cancel();
            collectors.ForEach(c => c.Join());
        }
    }
}
