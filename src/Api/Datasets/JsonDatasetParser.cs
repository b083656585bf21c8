using System.Text;
using System.Text.Json;
using ModelService.Api.Infrastructure;

namespace ModelService.Api.Datasets;

/// <summary>Reads a JSON upload <c>{"name": "...", "columns": ["a", ...], "rows": [[1.5, "red", null], ...]}</c>.
/// Numbers keep their JSON text so that type inference treats them exactly like CSV cells.</summary>
internal static class JsonDatasetParser
{
    public sealed record Result(string? Name, RawTable Table);

    public static Result Parse(ReadOnlySpan<byte> body, LimitsOptions limits)
    {
        if (body.IsEmpty)
        {
            throw ApiProblemException.Validation("body", "The request body is empty; send {\"columns\": [...], \"rows\": [[...], ...]}.");
        }
        JsonLimits.EnsureUtf8(body);
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = JsonLimits.MaxDepth });
        Expect(ref reader, JsonTokenType.StartObject, "body", "The body must be a JSON object with 'columns' and 'rows'.");
        string? name = null;
        List<string?>? columns = null;
        List<string?[]>? rows = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var property = reader.GetString()!;
            reader.Read();
            switch (property)
            {
                case "name":
                    name = reader.TokenType == JsonTokenType.Null ? null
                        : reader.TokenType == JsonTokenType.String ? reader.GetString()
                        : throw ApiProblemException.Validation("name", "'name' must be a string.");
                    break;
                case "columns":
                    columns = ReadColumns(ref reader);
                    break;
                case "rows":
                    rows = ReadRows(ref reader, limits);
                    break;
                default:
                    throw ApiProblemException.Validation(property, $"Unknown property '{property}'; expected 'name', 'columns' and 'rows'.");
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw ApiProblemException.Validation("body", "The body must be a single JSON object.");
        }
        if (columns is null)
        {
            throw ApiProblemException.Validation("columns", "'columns' is required.");
        }
        if (rows is null || rows.Count == 0)
        {
            throw ApiProblemException.Validation("rows", "'rows' is required and must hold at least one row.");
        }
        var names = RawTable.ValidateNames(columns, limits.MaxDatasetColumns, i => $"columns[{i}]");
        var table = new RawTable(names);
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r].Length != names.Count)
            {
                throw ApiProblemException.Validation($"rows[{r}]",
                    $"Row {r} has {rows[r].Length} values; 'columns' names {names.Count}.");
            }
            for (var c = 0; c < names.Count; c++)
            {
                table.Add(c, rows[r][c]);
            }
        }
        return new Result(name, table);
    }

    private static List<string?> ReadColumns(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "columns", "'columns' must be an array of column names.", read: false);
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

    private static List<string?[]> ReadRows(ref Utf8JsonReader reader, LimitsOptions limits)
    {
        Expect(ref reader, JsonTokenType.StartArray, "rows", "'rows' must be an array of arrays.", read: false);
        var rows = new List<string?[]>();
        var cells = new List<string?>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var r = rows.Count;
            if (r >= limits.MaxDatasetRows)
            {
                throw ApiProblemException.Validation("rows", $"The dataset has more than {limits.MaxDatasetRows} rows (Limits:MaxDatasetRows).");
            }
            Expect(ref reader, JsonTokenType.StartArray, $"rows[{r}]", $"Row {r} must be an array of values.", read: false);
            cells.Clear();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                cells.Add(reader.TokenType switch
                {
                    JsonTokenType.Null => null,
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                    _ => throw ApiProblemException.Validation($"rows[{r}][{cells.Count}]",
                        $"Row {r}, value {cells.Count}: only numbers, strings and null are allowed."),
                });
            }
            rows.Add([.. cells]);
        }
        return rows;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string field, string message, bool read = true)
    {
        if ((read && !reader.Read()) || reader.TokenType != type)
        {
            throw ApiProblemException.Validation(field, message);
        }
    }
}
