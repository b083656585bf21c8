using System.Globalization;
using ModelService.Api.Errors;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>The first pass over an upload: which columns hold only numbers (a column is numeric when every non-empty
/// cell parses as an invariant-culture number, otherwise categorical) and how many rows there are, keeping no cell.</summary>
internal sealed class ColumnTypeScan(IReadOnlyList<string> names)
{
    private readonly bool[] _numeric = [.. names.Select(_ => true)];

    public IReadOnlyList<string> Names => names;

    public int Rows { get; private set; }

    public void See(int column, string? cell)
    {
        if (_numeric[column] && TypedColumns.Trim(cell) is { } text && !TypedColumns.TryParseNumber(text, out _))
        {
            _numeric[column] = false;
        }
    }

    public void EndRow() => Rows++;

    public TypedColumns Allocate() => new(names, _numeric, Rows);
}

/// <summary>The second pass: cells go straight into typed arrays sized by the first pass (a double per numeric cell, an
/// interned label reference per categorical one), so a table costs about 8 bytes per cell plus its distinct labels.</summary>
internal sealed class TypedColumns
{
    public const int MaxListedCategories = 100;

    private readonly IReadOnlyList<string> _names;
    private readonly double[]?[] _numbers;
    private readonly string?[]?[] _labels;
    private readonly Dictionary<string, string>?[] _distinct;

    public TypedColumns(IReadOnlyList<string> names, bool[] numeric, int rows)
    {
        _names = names;
        _numbers = [.. numeric.Select(n => n ? new double[rows] : null)];
        _labels = [.. numeric.Select(n => n ? null : new string?[rows])];
        _distinct = [.. numeric.Select(n => n ? null : new Dictionary<string, string>(StringComparer.Ordinal))];
    }

    /// <summary>Stores a cell; a number that is not finite (NaN, an infinity, 1e400) in a numeric column is a 400.</summary>
    public void Set(int column, int row, string? cell)
    {
        var text = Trim(cell);
        if (_numbers[column] is { } numbers)
        {
            if (text is null)
            {
                numbers[row] = double.NaN;
            }
            else if (!TryParseNumber(text, out numbers[row]) || !double.IsFinite(numbers[row]))
            {
                throw ApiProblemException.Validation(_names[column],
                    $"Column '{_names[column]}', row {row + 1}: '{text}' is not a finite number (NaN and infinities are not allowed).");
            }
            return;
        }
        if (text is not null)
        {
            var distinct = _distinct[column]!;
            if (!distinct.TryGetValue(text, out var label))
            {
                distinct.Add(text, text);
                label = text;
            }
            _labels[column]![row] = label;
        }
    }

    public (DataTable Table, IReadOnlyList<ColumnInfo> Columns) Build()
    {
        var columns = new List<DataColumn>(_names.Count);
        var infos = new List<ColumnInfo>(_names.Count);
        for (var c = 0; c < _names.Count; c++)
        {
            if (_numbers[c] is { } numbers)
            {
                columns.Add(DataColumn.Numeric(_names[c], numbers));
                infos.Add(NumericInfo(_names[c], numbers));
            }
            else
            {
                var labels = _labels[c]!;
                var distinct = _distinct[c]!;
                columns.Add(DataColumn.Categorical(_names[c], labels));
                infos.Add(new ColumnInfo(_names[c], ColumnType.Categorical, labels.Count(l => l is null),
                    Categories: [.. distinct.Keys.Order(StringComparer.Ordinal).Take(MaxListedCategories)], DistinctCount: distinct.Count));
            }
        }
        return (new DataTable(columns), infos);
    }

    /// <summary>A cell as stored: trimmed, and null when empty or blank.</summary>
    public static string? Trim(string? cell) => string.IsNullOrWhiteSpace(cell) ? null : cell.Trim();

    public static bool TryParseNumber(string cell, out double value) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

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
            ? new ColumnInfo(name, ColumnType.Numeric, missing)
            : new ColumnInfo(name, ColumnType.Numeric, missing, min, max, sum / count);
    }
}
