using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using CsvHelper;
using ModelService.Api.Infrastructure;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>Datasets on disk: <c>datasets/{id}/data.csv</c> (normalised: invariant numbers, empty cells missing) and
/// <c>info.json</c>. A dataset folder is assembled under a hidden temporary name and renamed into place, so a listing
/// never shows a half-written one.</summary>
internal sealed partial class DatasetStore(StoragePaths paths, TimeProvider clock, ILogger<DatasetStore> logger)
{
    private const string DataFile = "data.csv";
    private const string InfoFile = "info.json";

    public DatasetInfo Save(string name, DataTable table, IReadOnlyList<ColumnInfo> columns)
    {
        var id = Ids.NewDatasetId();
        var temp = Path.Combine(paths.Datasets, $".tmp-{id}");
        Directory.CreateDirectory(temp);
        try
        {
            var dataPath = Path.Combine(temp, DataFile);
            WriteCsv(table, dataPath);
            string sha256;
            using (var stream = File.OpenRead(dataPath))
            {
                sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
            }
            var info = new DatasetInfo(id, name, table.RowCount, sha256, clock.GetUtcNow(), columns);
            AtomicFile.WriteAllBytes(Path.Combine(temp, InfoFile), JsonSerializer.SerializeToUtf8Bytes(info, ApiJsonContext.Default.DatasetInfo));
            Directory.Move(temp, Path.Combine(paths.Datasets, id));
            LogStored(logger, id, info.RowCount, info.Columns.Count);
            return info;
        }
        catch
        {
            Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    public IReadOnlyList<DatasetInfo> List()
    {
        var result = new List<DatasetInfo>();
        foreach (var directory in Directory.EnumerateDirectories(paths.Datasets))
        {
            if (Ids.IsDatasetId(Path.GetFileName(directory)) && TryReadInfo(directory) is { } info)
            {
                result.Add(info);
            }
        }
        return [.. result.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id, StringComparer.Ordinal)];
    }

    public DatasetInfo? Get(string id) => Ids.IsDatasetId(id) ? TryReadInfo(Path.Combine(paths.Datasets, id)) : null;

    public bool Delete(string id)
    {
        var directory = Path.Combine(paths.Datasets, id);
        if (!Ids.IsDatasetId(id) || !Directory.Exists(directory))
        {
            return false;
        }
        AtomicFile.DeleteDirectory(directory);
        LogDeleted(logger, id);
        return true;
    }

    /// <summary>Reads a stored dataset back into a table, with the column types recorded at upload.</summary>
    public DataTable? Load(string id)
    {
        if (Get(id) is not { } info)
        {
            return null;
        }
        using var reader = new StreamReader(Path.Combine(paths.Datasets, id, DataFile));
        using var csv = new CsvParser(reader, CultureInfo.InvariantCulture);
        csv.Read();
        var numbers = info.Columns.Select(c => c.Type == ColumnTypes.Numeric ? new double[info.RowCount] : null).ToArray();
        var labels = info.Columns.Select(c => c.Type == ColumnTypes.Categorical ? new string?[info.RowCount] : null).ToArray();
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

    private static void WriteCsv(DataTable table, string path)
    {
        using var writer = new StreamWriter(path);
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
        ((FileStream)writer.BaseStream).Flush(flushToDisk: true);
    }

    private DatasetInfo? TryReadInfo(string directory)
    {
        var path = Path.Combine(directory, InfoFile);
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, ApiJsonContext.Default.DatasetInfo);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            LogUnreadable(logger, e, path);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored dataset {DatasetId} with {RowCount} rows and {ColumnCount} columns")]
    private static partial void LogStored(ILogger logger, string datasetId, int rowCount, int columnCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted dataset {DatasetId}")]
    private static partial void LogDeleted(ILogger logger, string datasetId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping dataset with unreadable {InfoPath}")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string infoPath);
}
