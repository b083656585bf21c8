using System.Globalization;
using CsvHelper;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>The stored form of a dataset, the same for every storage provider: CSV with a header row, numbers in
/// invariant round-trip form, empty cells for missing values.</summary>
internal static class DatasetCsv
{
    public static void Write(DataTable table, Stream stream)
    {
        using var writer = new StreamWriter(stream, leaveOpen: true);
        using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
        foreach (var column in table.Columns)
        {
            csv.WriteField(column.Name);
        }
        csv.NextRecord();
        for (var row = 0; row < table.RowCount; row++)
        {
            foreach (var column in table.Columns)
            {
                csv.WriteField(column.Numbers is { } numbers
                    ? double.IsNaN(numbers[row]) ? "" : numbers[row].ToString("R", CultureInfo.InvariantCulture)
                    : column.Labels![row] ?? "");
            }
            csv.NextRecord();
        }
        csv.Flush();
        writer.Flush();
    }

    /// <summary>Reads the stored CSV back with the column types recorded in <paramref name="info"/>.</summary>
    public static DataTable Read(Stream stream, DatasetInfo info)
    {
        using var reader = new StreamReader(stream);
        using var csv = new CsvParser(reader, CultureInfo.InvariantCulture);
        csv.Read();
        var numbers = info.Columns.Select(c => c.Type == ColumnType.Numeric ? new double[info.RowCount] : null).ToArray();
        var labels = info.Columns.Select(c => c.Type == ColumnType.Categorical ? new string?[info.RowCount] : null).ToArray();
        var distinct = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var row = 0; row < info.RowCount && csv.Read(); row++)
        {
            for (var c = 0; c < info.Columns.Count; c++)
            {
                var cell = csv[c];
                if (numbers[c] is { } column)
                {
                    column[row] = cell.Length == 0 ? double.NaN : double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture);
                }
                else if (cell.Length > 0)
                {
                    labels[c]![row] = distinct.TryGetValue(cell, out var label) ? label : distinct[cell] = cell;
                }
            }
        }
        return new DataTable([.. info.Columns.Select((c, i) => numbers[i] is { } n
            ? DataColumn.Numeric(c.Name, n)
            : DataColumn.Categorical(c.Name, labels[i]!))]);
    }
}
