using System.ComponentModel;
using System.Text.Json.Serialization;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>A stored dataset as the API shows it. A table has <see cref="Columns"/>; a tensor dataset has no columns and
/// instead its sample <see cref="Shape"/> [H, W, C], <see cref="TargetShape"/> ([] for a value per sample, [H, W] for one
/// per position) and statistics per channel and of the target; <see cref="RowCount"/> is then the number of samples.</summary>
internal sealed record DatasetInfo(
    string Id,
    string Name,
    int RowCount,
    string Sha256,
    DateTimeOffset CreatedAt,
    IReadOnlyList<ColumnInfo> Columns,
    DatasetKind Kind = DatasetKind.Table,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<int>? Shape = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<int>? TargetShape = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<TensorStatistics>? Channels = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TensorStatistics? Target = null)
{
    public static DatasetInfo ForTensor(string id, string name, string sha256, DateTimeOffset createdAt, TensorData data,
        TensorSummary summary) =>
        new(id, name, data.Count, sha256, createdAt, [], DatasetKind.Tensor, data.Shape, data.TargetShape, summary.Channels,
            summary.Target);
}

/// <summary>Statistics of one channel of a tensor dataset's x (over every sample and position), or of its y.</summary>
/// <param name="Missing">Number of NaN values (missing inputs; for y, positions or samples without a target).</param>
/// <param name="Min">Smallest value; absent when every value is missing.</param>
internal sealed record TensorStatistics(
    long Missing,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Min = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Max = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Mean = null);

/// <summary>What <see cref="IDatasetStore.SaveTensor"/> records about a tensor dataset besides its shape.</summary>
internal sealed record TensorSummary(IReadOnlyList<TensorStatistics> Channels, TensorStatistics Target)
{
    public static TensorSummary Of(TensorData data)
    {
        var channels = new Accumulator[data.Channels];
        var x = data.X;
        for (var i = 0; i < x.Length;)
        {
            for (var c = 0; c < channels.Length; c++, i++)
            {
                channels[c].Add(x[i]);
            }
        }
        var target = default(Accumulator);
        foreach (var value in data.Y)
        {
            target.Add(value);
        }
        return new([.. channels.Select(c => c.Result())], target.Result());
    }

    private struct Accumulator
    {
        private long _missing;
        private long _count;
        private double _sum;
        private double _min;
        private double _max;

        public void Add(double value)
        {
            if (double.IsNaN(value))
            {
                _missing++;
                return;
            }
            _min = _count == 0 ? value : Math.Min(_min, value);
            _max = _count == 0 ? value : Math.Max(_max, value);
            _sum += value;
            _count++;
        }

        public readonly TensorStatistics Result() =>
            _count == 0 ? new(_missing) : new(_missing, _min, _max, _sum / _count);
    }
}

/// <summary>One column: its inferred type and statistics over non-missing values.</summary>
/// <param name="Type">"numeric" or "categorical" on the wire.</param>
/// <param name="Missing">Number of empty cells.</param>
/// <param name="Categories">Distinct values of a categorical column, sorted ordinally (at most
/// <see cref="TypedColumns.MaxListedCategories"/>).</param>
/// <param name="DistinctCount">Number of distinct values of a categorical column.</param>
internal sealed record ColumnInfo(
    string Name,
    ColumnType Type,
    int Missing,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Min = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Max = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Mean = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Categories = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? DistinctCount = null);

/// <summary>The JSON upload body (documentation only: the endpoint reads bodies with its own parsers).</summary>
internal sealed record DatasetUpload(
    [property: DefaultValue(DatasetUpload.DefaultName)] string? Name,
    IReadOnlyList<string> Columns,
    IReadOnlyList<IReadOnlyList<object?>> Rows)
{
    /// <summary>The name of a dataset uploaded without one (no ?name= for CSV, no "name" in JSON).</summary>
    public const string DefaultName = "unnamed";
}
