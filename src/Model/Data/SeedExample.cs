using static TorchSharp.torch;

namespace ModelService.Model.Data;

/// <summary>The seed example's synthetic house prices, for the default model, tests and benchmarks.</summary>
public static class SeedExample
{
    /// <summary>The feature columns, in order.</summary>
    public static IReadOnlyList<string> Features { get; } = ["square_footage", "rooms"];

    /// <summary>The target column.</summary>
    public const string Target = "price";

    /// <summary><paramref name="rows"/> houses with <c>square_footage</c> and <c>rooms</c> ~ U[0,1) and
    /// <c>price = 500000*square_footage + 100000*rooms</c>. The values come from LibTorch's generator, so a seed gives
    /// the same rows on every platform.</summary>
    public static DataTable HousePrices(int rows, int seed)
    {
        using var generator = new Generator((ulong)seed);
        using var x = rand([rows, 2], generator: generator, dtype: ScalarType.Float64);
        var values = x.data<double>().ToArray();
        var squareFootage = Enumerable.Range(0, rows).Select(r => values[2 * r]).ToArray();
        var rooms = Enumerable.Range(0, rows).Select(r => values[(2 * r) + 1]).ToArray();
        var price = squareFootage.Zip(rooms, (s, n) => (500000 * s) + (100000 * n)).ToArray();
        return new DataTable([
            DataColumn.Numeric(Features[0], squareFootage),
            DataColumn.Numeric(Features[1], rooms),
            DataColumn.Numeric(Target, price),
        ]);
    }
}
