using System.Globalization;
using ModelService.Api.Infrastructure;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>Infers column types and statistics: a column is numeric when every non-empty cell parses as a number in
/// the invariant culture, otherwise categorical.</summary>
internal static class DatasetBuilder
{
    public const int MaxListedCategories = 100;

    public static (DataTable Table, IReadOnlyList<ColumnInfo> Columns) Build(RawTable raw)
    {
        var columns = new List<DataColumn>(raw.Names.Count);
        var infos = new List<ColumnInfo>(raw.Names.Count);
        for (var c = 0; c < raw.Names.Count; c++)
        {
            var (column, info) = BuildColumn(raw.Names[c], raw.Columns[c]);
            columns.Add(column);
            infos.Add(info);
        }
        return (new DataTable(columns), infos);
    }

    public static bool TryParseNumber(string cell, out double value) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static (DataColumn, ColumnInfo) BuildColumn(string name, IReadOnlyList<string?> cells)
    {
        var numbers = new double[cells.Count];
        for (var r = 0; r < cells.Count; r++)
        {
            var cell = cells[r];
            if (cell is null)
            {
                numbers[r] = double.NaN;
            }
            else if (!TryParseNumber(cell, out numbers[r]))
            {
                return BuildCategorical(name, cells);
            }
        }
        for (var r = 0; r < numbers.Length; r++)
        {
            if (cells[r] is not null && !double.IsFinite(numbers[r]))
            {
                throw ApiProblemException.Validation(name,
                    $"Column '{name}', row {r + 1}: '{cells[r]}' is not a finite number (NaN and infinities are not allowed).");
            }
        }
        return (DataColumn.Numeric(name, numbers), NumericInfo(name, numbers));
    }

    private static ColumnInfo NumericInfo(string name, double[] numbers)
    {
        int missing = 0, count = 0;
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
        foreach (var value in numbers)
        {
            if (double.IsNaN(value))
            {
                missing++;
                continue;
            }
            count++;
            sum += value;
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }
        return count == 0
            ? new ColumnInfo(name, ColumnTypes.Numeric, missing)
            : new ColumnInfo(name, ColumnTypes.Numeric, missing, min, max, sum / count);
    }

    private static (DataColumn, ColumnInfo) BuildCategorical(string name, IReadOnlyList<string?> cells)
    {
        // Interning keeps one string per distinct label, so large tables hold few distinct objects.
        var distinct = new Dictionary<string, string>(StringComparer.Ordinal);
        var labels = new string?[cells.Count];
        var missing = 0;
        for (var r = 0; r < cells.Count; r++)
        {
            var cell = cells[r];
            if (cell is null)
            {
                missing++;
                continue;
            }
            if (!distinct.TryGetValue(cell, out var label))
            {
                distinct.Add(cell, cell);
                label = cell;
            }
            labels[r] = label;
        }
        var categories = distinct.Keys.Order(StringComparer.Ordinal).Take(MaxListedCategories).ToArray();
        return (DataColumn.Categorical(name, labels),
            new ColumnInfo(name, ColumnTypes.Categorical, missing, Categories: categories, DistinctCount: distinct.Count));
    }
}
