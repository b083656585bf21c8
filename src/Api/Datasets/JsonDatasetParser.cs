using System.Text;
using System.Text.Json;
using ModelService.Api.Errors;
using ModelService.Api.Json;
using ModelService.Api.Limits;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>Reads a JSON upload <c>{"name": "...", "columns": ["a", ...], "rows": [[1.5, "red", null], ...]}</c> in two
/// passes, as <see cref="CsvDatasetParser"/> does: the first checks the document and finds the column types, the second
/// fills typed columns. Numbers keep their JSON text so that type inference treats them exactly like CSV cells.</summary>
internal static class JsonDatasetParser
{
    public static (string? Name, DataTable Table, IReadOnlyList<ColumnInfo> Columns) Parse(ReadOnlySpan<byte> body, LimitsOptions limits)
    {
        if (body.IsEmpty)
        {
            throw ApiProblemException.Validation("body", "The request body is empty; send {\"columns\": [...], \"rows\": [[...], ...]}.");
        }
        JsonLimits.EnsureUtf8(body);
        var numeric = new List<bool>();
        var shape = new RowShape();
        var (name, columns) = Read(body, limits, (row, column, cell) =>
        {
            if (column == numeric.Count)
            {
                numeric.Add(true);
            }
            numeric[column] &= TypedColumns.Trim(cell) is not { } text || TypedColumns.TryParseNumber(text, out _);
        }, shape.End);
        if (columns is null)
        {
            throw ApiProblemException.Validation("columns", "'columns' is required.");
        }
        if (shape.Rows == 0)
        {
            throw ApiProblemException.Validation("rows", "'rows' is required and must hold at least one row.");
        }
        var names = DatasetText.ValidateNames(columns, limits.MaxDatasetColumns, i => $"columns[{i}]");
        if (shape.Mismatch(names.Count) is { } bad)
        {
            throw ApiProblemException.Validation($"rows[{bad.Row}]", $"Row {bad.Row} has {bad.Length} values; 'columns' names {names.Count}.");
        }
        var typed = new TypedColumns(names, [.. numeric.Concat(Enumerable.Repeat(true, names.Count - numeric.Count))], shape.Rows);
        Read(body, limits, (row, column, cell) => typed.Set(column, row, cell), (_, _) => { });
        var (table, infos) = typed.Build();
        return (name, table, infos);
    }

    /// <summary>Enough of the rows' lengths to name the first that differs from the column count once that is known
    /// ('columns' may come after 'rows'): the first row's length and the first row that differs from it.</summary>
    private sealed class RowShape
    {
        private int _first = -1;
        private (int Row, int Length)? _firstOther;

        public int Rows { get; private set; }

        public void End(int row, int length)
        {
            Rows = row + 1;
            if (_first < 0)
            {
                _first = length;
            }
            else if (length != _first && _firstOther is null)
            {
                _firstOther = (row, length);
            }
        }

        public (int Row, int Length)? Mismatch(int columns) =>
            _first != columns ? (0, _first) : _firstOther;
    }

    private static (string? Name, List<string?>? Columns) Read(ReadOnlySpan<byte> body, LimitsOptions limits,
        Action<int, int, string?> cell, Action<int, int> endRow)
    {
        var envelope = new JsonEnvelope(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = JsonLimits.MaxDepth },
            "'columns' and 'rows'", "'name', 'columns' and 'rows'");
        string? name = null;
        List<string?>? columns = null;
        while (envelope.NextProperty(out var property))
        {
            switch (property)
            {
                case "name":
                    name = envelope.OptionalString("name");
                    break;
                case "columns":
                    columns = ReadColumns(ref envelope.Reader);
                    break;
                case "rows":
                    ReadRows(ref envelope.Reader, limits, cell, endRow);
                    break;
                default:
                    throw envelope.Unknown(property);
            }
        }
        envelope.End();
        return (name, columns);
    }

    private static List<string?> ReadColumns(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "columns", "'columns' must be an array of column names.");
        var columns = new List<string?>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                throw ApiProblemException.Validation($"columns[{columns.Count}]", "Column names must be strings.");
            }
            columns.Add(reader.GetString());
        }
        return columns;
    }

    private static void ReadRows(ref Utf8JsonReader reader, LimitsOptions limits, Action<int, int, string?> cell, Action<int, int> endRow)
    {
        Expect(ref reader, JsonTokenType.StartArray, "rows", "'rows' must be an array of arrays.");
        var r = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (r >= limits.MaxDatasetRows)
            {
                throw ApiProblemException.Validation("rows", $"The dataset has more than {limits.MaxDatasetRows} rows (Limits:MaxDatasetRows).");
            }
            Expect(ref reader, JsonTokenType.StartArray, $"rows[{r}]", $"Row {r} must be an array of values.");
            var c = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (c >= limits.MaxDatasetColumns)
                {
                    throw ApiProblemException.Validation("columns",
                        $"Row {r} has more than {limits.MaxDatasetColumns} values; a dataset has at most {limits.MaxDatasetColumns} columns "
                        + "(Limits:MaxDatasetColumns).");
                }
                cell(r, c, reader.TokenType switch
                {
                    JsonTokenType.Null => null,
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                    _ => throw ApiProblemException.Validation($"rows[{r}][{c}]",
                        $"Row {r}, value {c}: only numbers, strings and null are allowed."),
                });
                c++;
            }
            endRow(r, c);
            r++;
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string field, string message)
    {
        if (reader.TokenType != type)
        {
            throw ApiProblemException.Validation(field, message);
        }
    }
}
