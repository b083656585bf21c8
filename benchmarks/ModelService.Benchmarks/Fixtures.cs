using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Training;

namespace ModelService.Benchmarks;

/// <summary>The seed job and its trained model, shared by the benchmarks.</summary>
internal static class Fixtures
{
    /// <summary>The seed job: 16-8 relu, Adam 1e-3, 50 epochs, batch 16, validation 0.2, seed 42.</summary>
    public static TrainingRequestSpec SeedSpec(int epochs = 50, int threads = 1) =>
        new(SeedExample.Target, SeedExample.Features, new NetworkOptions([16, 8]),
            new TrainingOptions { Epochs = epochs, Threads = threads });

    public static TrainedModel TrainSeedModel() =>
        Trainer.Train(SeedExample.HousePrices(1000, seed: 7), SeedSpec(), onEpoch: null, CancellationToken.None);

    /// <summary>Raw rows of the seed features, row-major.</summary>
    public static FeatureValue[] Rows(int count, int seed)
    {
        var table = SeedExample.HousePrices(count, seed);
        var rows = new FeatureValue[count * SeedExample.Features.Count];
        for (var f = 0; f < SeedExample.Features.Count; f++)
        {
            var column = table.Columns.First(c => c.Name == SeedExample.Features[f]);
            for (var r = 0; r < count; r++)
            {
                rows[(r * SeedExample.Features.Count) + f] = FeatureValue.FromNumber(column.Numbers![r]);
            }
        }
        return rows;
    }
}
