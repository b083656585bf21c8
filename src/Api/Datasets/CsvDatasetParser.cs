using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using ModelService.Api.Errors;
using ModelService.Api.Limits;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>Reads an RFC 4180 CSV upload (header row first; quoted fields may hold commas, quotes and newlines) in two
/// streaming passes over the body: the first finds the column types and the row count, the second fills typed columns.
/// No cell outlives the row it is in, so the table costs about 8 bytes per cell on top of the body.</summary>
internal static class CsvDatasetParser
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static (DataTable Table, IReadOnlyList<ColumnInfo> Columns) Parse(ReadOnlyMemory<byte> body, LimitsOptions limits)
    {
        if (body.IsEmpty)
        {
            throw ApiProblemException.Validation("body", "The request body is empty; send a CSV with a header row and data rows.");
        }
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        var text = body.Span.StartsWith(bom) ? body[bom.Length..] : body;
        DatasetText.EnsureUtf8(text.Span, body.Length - text.Length);

        var scan = Read(text, limits, names => new ColumnTypeScan(names), (scan, _, column, cell) => scan.See(column, cell),
            scan => scan.EndRow());
        var columns = scan.Allocate();
        Read(text, limits, _ => columns, (columns, row, column, cell) => columns.Set(column, row, cell), _ => { });
        return columns.Build();
    }

    /// <summary>One pass: validates the header and every row's shape, handing each cell to <paramref name="cell"/>.</summary>
    private static T Read<T>(ReadOnlyMemory<byte> text, LimitsOptions limits, Func<IReadOnlyList<string>, T> start,
        Action<T, int, int, string> cell, Action<T> endRow)
    {
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = true,
            IgnoreBlankLines = true,
            BadDataFound = args => throw ApiProblemException.Validation(
                $"row {args.Context.Parser!.Row - 1}",
                $"Row {args.Context.Parser.Row - 1} (line {args.Context.Parser.RawRow}) is not valid CSV near '{Excerpt(args.Field)}' "
                + "(a quote inside an unquoted field, or text after a closing quote)."),
        };
        using var reader = new StreamReader(OpenRead(text), StrictUtf8, detectEncodingFromByteOrderMarks: false);
        using var parser = new CsvParser(reader, configuration);
        if (!parser.Read())
        {
            throw ApiProblemException.Validation("body", "The CSV has no header row.");
        }
        var names = DatasetText.ValidateNames(parser.Record!, limits.MaxDatasetColumns, i => $"column {i + 1}");
        var state = start(names);
        var rows = 0;
        while (parser.Read())
        {
            var row = rows + 1;
            if (parser.Count != names.Count)
            {
                throw ApiProblemException.Validation($"row {row}",
                    $"Row {row} (line {parser.RawRow}) has {parser.Count} fields; the header has {names.Count}.");
            }
            if (row > limits.MaxDatasetRows)
            {
                throw ApiProblemException.Validation("body",
                    $"The dataset has more than {limits.MaxDatasetRows} rows (Limits:MaxDatasetRows).");
            }
            for (var i = 0; i < names.Count; i++)
            {
                cell(state, rows, i, parser[i]);
            }
            endRow(state);
            rows++;
        }
        if (rows == 0)
        {
            throw ApiProblemException.Validation("body", "The CSV has a header row but no data rows.");
        }
        return state;
    }

    private static MemoryStream OpenRead(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(memory.ToArray(), writable: false);

    private static string Excerpt(string field) => field.Length <= 40 ? field : field[..40] + "...";
}
