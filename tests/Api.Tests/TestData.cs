using System.Globalization;
using System.Text;

namespace ModelService.Api.Tests;

/// <summary>The seed example's synthetic house prices: price = 500000 * square_footage + 100000 * rooms, both
/// features uniform in [0, 1).</summary>
public static class TestData
{
    public static (double SquareFootage, double Rooms, double Price)[] Houses(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var x0 = random.NextDouble();
            var x1 = random.NextDouble();
            return (x0, x1, 500_000 * x0 + 100_000 * x1);
        })];
    }

    public static string HousesCsv(int count, int seed)
    {
        var csv = new StringBuilder("square_footage,rooms,price\n");
        foreach (var (x0, x1, price) in Houses(count, seed))
        {
            csv.Append(CultureInfo.InvariantCulture, $"{x0:R},{x1:R},{price:R}\n");
        }
        return csv.ToString();
    }

    /// <summary>A validated request (every default filled in) for one quick epoch on <see cref="HousesCsv"/> data.</summary>
    internal static ModelService.Api.Training.TrainingRequest SmallTrainingRequest(string? datasetId) => new()
    {
        DatasetId = datasetId, Target = "price", Features = ["square_footage", "rooms"], HiddenChannels = [4], Activation = ModelService.Model.Network.Activation.Relu,
        Dropout = 0, BatchNorm = false, Epochs = 1, BatchSize = 32, LearningRate = 0.01, Optimizer = ModelService.Model.Training.OptimizerKind.Adam, WeightDecay = 0,
        ValidationFraction = 0.2, Seed = 1, Activate = false,
    };

    public static string CaliforniaCsv() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "california_housing_3000.csv"));
}
