using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using ModelService.Api.Infrastructure;

namespace ModelService.Api.Datasets;

/// <summary>Reads an RFC 4180 CSV upload (header row first; quoted fields may hold commas, quotes and newlines).</summary>
internal static class CsvDatasetParser
{
    public static RawTable Parse(ReadOnlySpan<byte> body, LimitsOptions limits)
    {
        if (body.IsEmpty)
        {
            throw ApiProblemException.Validation("body", "The request body is empty; send a CSV with a header row and data rows.");
        }
        var text = RawTable.DecodeUtf8(body);
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = true,
            IgnoreBlankLines = true,
            BadDataFound = args => throw ApiProblemException.Validation(
                $"row {args.Context.Parser!.Row - 1}",
                $"Row {args.Context.Parser.Row - 1} (line {args.Context.Parser.RawRow}) is not valid CSV near '{Excerpt(args.Field)}' "
                + "(a quote inside an unquoted field, or text after a closing quote)."),
        };
        using var reader = new StringReader(text);
        using var parser = new CsvParser(reader, configuration);
        if (!parser.Read())
        {
            throw ApiProblemException.Validation("body", "The CSV has no header row.");
        }
        var names = RawTable.ValidateNames(parser.Record!, limits.MaxDatasetColumns, i => $"column {i + 1}");
        var table = new RawTable(names);
        while (parser.Read())
        {
            var row = table.RowCount + 1;
            var record = parser.Record!;
            if (record.Length != names.Count)
            {
                throw ApiProblemException.Validation($"row {row}",
                    $"Row {row} (line {parser.RawRow}) has {record.Length} fields; the header has {names.Count}.");
            }
            if (row > limits.MaxDatasetRows)
            {
                throw ApiProblemException.Validation("body",
                    $"The dataset has more than {limits.MaxDatasetRows} rows (Limits:MaxDatasetRows).");
            }
            for (var i = 0; i < record.Length; i++)
            {
                table.Add(i, record[i]);
            }
        }
        if (table.RowCount == 0)
        {
            throw ApiProblemException.Validation("body", "The CSV has a header row but no data rows.");
        }
        return table;
    }

    private static string Excerpt(string field) => field.Length <= 40 ? field : field[..40] + "...";
}
