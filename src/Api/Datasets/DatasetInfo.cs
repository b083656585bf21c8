using System.ComponentModel;
using System.Text.Json.Serialization;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>A stored dataset as the API shows it.</summary>
internal sealed record DatasetInfo(
    string Id,
    string Name,
    int RowCount,
    string Sha256,
    DateTimeOffset CreatedAt,
    IReadOnlyList<ColumnInfo> Columns);

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
