using System.Globalization;
using CsvHelper;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Training;

namespace ModelService.Model.Tests;

/// <summary>Data sets and specs the tests share.</summary>
internal static class TestData
{
    public static readonly string[] HouseFeatures = ["square_footage", "rooms"];

    private static readonly Lazy<TrainedModel> s_seedModel = new(() =>
        Trainer.Train(HousePrices(rows: 1000, seed: 7), SeedSpec(), onEpoch: null, CancellationToken.None));

    /// <summary>The seed job trained once per test run (1000 rows, 16-8 relu, Adam 1e-3, 50 epochs, batch 16).</summary>
    public static TrainedModel SeedModel => s_seedModel.Value;

    /// <summary>The seed example: price = 500000 x0 + 100000 x1 with x ~ U[0,1).</summary>
    public static DataTable HousePrices(int rows, int seed) => SeedExample.HousePrices(rows, seed);

    /// <summary>The seed job: 16-8 relu, Adam 1e-3, 50 epochs, batch 16, validation 0.2, seed 42.</summary>
    public static TrainingRequestSpec SeedSpec(TrainingOptions? options = null, NetworkOptions? network = null) =>
        new("price", HouseFeatures, network ?? new NetworkOptions([16, 8]), options ?? new TrainingOptions());

    /// <summary>Raw rows of a table's features in the given order, row-major.</summary>
    public static FeatureValue[] Rows(DataTable table, IReadOnlyList<string> features)
    {
        var rows = new FeatureValue[table.RowCount * features.Count];
        for (var r = 0; r < table.RowCount; r++)
        {
            for (var f = 0; f < features.Count; f++)
            {
                var column = table[features[f]];
                rows[(r * features.Count) + f] = column.IsMissing(r) ? FeatureValue.Missing
                    : column.Numbers is { } numbers ? FeatureValue.FromNumber(numbers[r])
                    : FeatureValue.FromLabel(column.Labels![r]!);
            }
        }
        return rows;
    }

    /// <summary>436 rows of the California housing data (every 50th row plus rows missing total_bedrooms).</summary>
    public static DataTable California() => ReadCsv(Path.Combine(AppContext.BaseDirectory, "Data", "california_housing_sample.csv"));

    private static DataTable ReadCsv(string path)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        csv.Read();
        csv.ReadHeader();
        var header = csv.HeaderRecord!;
        var cells = header.Select(_ => new List<string>()).ToArray();
        while (csv.Read())
        {
            for (var c = 0; c < header.Length; c++)
            {
                cells[c].Add(csv.GetField(c) ?? "");
            }
        }
        return new DataTable(header.Select((name, c) => ToColumn(name, cells[c])).ToArray());
    }

    private static DataColumn ToColumn(string name, List<string> cells)
    {
        var numeric = cells.All(v => v.Length == 0 || double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        return numeric
            ? DataColumn.Numeric(name, cells.Select(v => v.Length == 0 ? double.NaN : double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            : DataColumn.Categorical(name, cells.Select(v => v.Length == 0 ? null : v).ToArray());
    }
}
