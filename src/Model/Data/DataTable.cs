using System.Text.Json.Serialization;
using ModelService.Model.Serialization;

namespace ModelService.Model.Data;

/// <summary>How a column's values are interpreted; "numeric" or "categorical" in JSON (HTTP API, manifest, stores).</summary>
[JsonConverter(typeof(WireEnumConverter<ColumnType>))]
public enum ColumnType
{
    /// <summary>Every non-missing value is a number.</summary>
    [JsonStringEnumMemberName("numeric")]
    Numeric,

    /// <summary>Values are labels; one-hot encoded for the network.</summary>
    [JsonStringEnumMemberName("categorical")]
    Categorical,
}

/// <summary>One named column of raw values. Numeric columns use <see cref="double.NaN"/> for a missing value,
/// categorical columns use null.</summary>
public sealed class DataColumn
{
    private DataColumn(string name, ColumnType type, double[]? numbers, string?[]? labels)
    {
        Name = name;
        Type = type;
        Numbers = numbers;
        Labels = labels;
    }

    /// <summary>Column name as it appears in the data set's header.</summary>
    public string Name { get; }

    /// <summary>Numeric or categorical.</summary>
    public ColumnType Type { get; }

    /// <summary>The values of a numeric column (NaN where missing); null for a categorical column.</summary>
    public double[]? Numbers { get; }

    /// <summary>The values of a categorical column (null where missing); null for a numeric column.</summary>
    public string?[]? Labels { get; }

    /// <summary>Number of values.</summary>
    public int Length => Numbers?.Length ?? Labels!.Length;

    /// <summary>Creates a numeric column.</summary>
    public static DataColumn Numeric(string name, double[] values) => new(name, ColumnType.Numeric, values, null);

    /// <summary>Creates a categorical column.</summary>
    public static DataColumn Categorical(string name, string?[] values) => new(name, ColumnType.Categorical, null, values);

    /// <summary>True when row <paramref name="row"/> has no value.</summary>
    public bool IsMissing(int row) => Numbers is not null ? double.IsNaN(Numbers[row]) : Labels![row] is null;
}

/// <summary>A rectangular table of named raw columns, all of the same length.</summary>
public sealed class DataTable
{
    private readonly Dictionary<string, DataColumn> _byName;

    /// <summary>Creates a table; column names must be unique and all columns of equal length.</summary>
    public DataTable(IReadOnlyList<DataColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0)
        {
            throw new ArgumentException("A table needs at least one column.", nameof(columns));
        }
        _byName = new Dictionary<string, DataColumn>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            if (!_byName.TryAdd(column.Name, column))
            {
                throw new ArgumentException($"Duplicate column name '{column.Name}'.", nameof(columns));
            }
            if (column.Length != columns[0].Length)
            {
                throw new ArgumentException($"Column '{column.Name}' has {column.Length} values, expected {columns[0].Length}.", nameof(columns));
            }
        }
        Columns = columns;
        RowCount = columns[0].Length;
    }

    /// <summary>The columns in header order.</summary>
    public IReadOnlyList<DataColumn> Columns { get; }

    /// <summary>Number of rows.</summary>
    public int RowCount { get; }

    /// <summary>The column named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such column.</exception>
    public DataColumn this[string name] =>
        _byName.TryGetValue(name, out var column) ? column : throw new KeyNotFoundException($"No column named '{name}'.");

    /// <summary>True when the table has a column named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);
}
