using ModelService.Model.Training;

namespace ModelService.Model.Tests.Training;

public sealed class GarbageCollectionStressTests
{
    // A service trains while request handling allocates and collects constantly. LibTorch must never see a scalar
    // argument that a finalizer freed during the call. With TorchSharp's own Adam this failed within seconds
    // ("Expected false to be true" from c10::Scalar::toFloat inside add_).
    [Fact]
    public void Training_survives_constant_garbage_collection_on_another_thread()
    {
        using var stop = new CancellationTokenSource();
        var collectors = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.KeepAlive(new byte[64 * 1024]);
                GC.Collect(0);
            }
        }) { IsBackground = true }).ToList();
        collectors.ForEach(c => c.Start());
        try
        {
            var options = new TrainingOptions { Epochs = 4, BatchSize = 1, WeightDecay = 0.001, Optimizer = OptimizerKind.AdamW };
            var model = Trainer.Train(TestData.HousePrices(rows: 1000, seed: 2), TestData.SeedSpec(options), null, CancellationToken.None);

            Assert.Equal(4, model.Manifest.Training.History.Count);
        }
        finally
        {
            stop.Cancel();
            collectors.ForEach(c => c.Join());
        }
    }
}
