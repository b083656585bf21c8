using System.Security.Cryptography;
using System.Text.Json;
using ModelService.Api.Datasets;
using ModelService.Api.Json;
using ModelService.Api.Storage;
using ModelService.Model.Data;

namespace ModelService.Api.Local;

/// <summary>Datasets on disk: <c>datasets/{id}/data.csv</c> (<see cref="DatasetCsv"/>) or, for a tensor dataset,
/// <c>data.npz</c> (<see cref="NpzArchive"/>), and <c>info.json</c>. A dataset
/// folder is assembled under a hidden temporary name and renamed into place, so a listing never shows a half-written
/// one.</summary>
internal sealed partial class LocalDatasetStore(
    StoragePaths paths, LocalStoreLock storeLock, LocalJobStore jobs, TimeProvider clock, ILogger<LocalDatasetStore> logger)
    : IDatasetStore
{
    private const string DataFile = "data.csv";
    private const string TensorFile = "data.npz";
    private const string InfoFile = "info.json";

    public static bool Exists(StoragePaths paths, string id) =>
        Ids.IsDatasetId(id) && File.Exists(Path.Combine(paths.Datasets, id, InfoFile));

    public DatasetInfo Save(string name, DataTable table, IReadOnlyList<ColumnInfo> columns) =>
        Store(DataFile, stream => DatasetCsv.Write(table, stream),
            (id, sha256) => new DatasetInfo(id, name, table.RowCount, sha256, clock.GetUtcNow(), columns));

    public DatasetInfo SaveTensor(string name, TensorData data, TensorSummary summary) =>
        Store(TensorFile, stream => NpzArchive.Write(data, stream),
            (id, sha256) => DatasetInfo.ForTensor(id, name, sha256, clock.GetUtcNow(), data, summary));

    private DatasetInfo Store(string file, Action<Stream> write, Func<string, string, DatasetInfo> describe)
    {
        var id = Ids.NewDatasetId();
        var temp = Path.Combine(paths.Datasets, $".tmp-{id}");
        Directory.CreateDirectory(temp);
        try
        {
            var dataPath = Path.Combine(temp, file);
            using (var stream = new FileStream(dataPath, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            string sha256;
            using (var stream = File.OpenRead(dataPath))
            {
                sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
            }
            var info = describe(id, sha256);
            AtomicFile.WriteAllBytes(Path.Combine(temp, InfoFile), JsonSerializer.SerializeToUtf8Bytes(info, ApiJsonContext.Default.DatasetInfo));
            Directory.Move(temp, Path.Combine(paths.Datasets, id));
            DatasetStoreLog.Stored(logger, info);
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

    public DatasetDeletion Delete(string id)
    {
        lock (storeLock.DatasetsAndJobs)
        {
            var directory = Path.Combine(paths.Datasets, id);
            if (!Ids.IsDatasetId(id) || !Directory.Exists(directory))
            {
                return DatasetDeletion.NotFound;
            }
            if (jobs.HasPendingJobFor(id))
            {
                return DatasetDeletion.InUse;
            }
            AtomicFile.DeleteDirectory(directory);
        }
        DatasetStoreLog.Deleted(logger, id);
        return DatasetDeletion.Deleted;
    }

    public DataTable? Load(string id) => Read(id, InputKind.Table, DataFile, (info, stream) => DatasetCsv.Read(stream, info));

    public TensorData? LoadTensor(string id) =>
        Read(id, InputKind.Tensor, TensorFile, (_, stream) => NpzArchive.Read(stream, long.MaxValue, "stored"));

    /// <summary>Reads the stored file of a dataset of <paramref name="kind"/>; null when there is no such dataset.</summary>
    private T? Read<T>(string id, InputKind kind, string file, Func<DatasetInfo, Stream, T> read)
        where T : class
    {
        if (Get(id) is not { } info)
        {
            return null;
        }
        if (info.Kind != kind)
        {
            throw new DatasetKindException(id, info.Kind);
        }
        using var stream = File.OpenRead(Path.Combine(paths.Datasets, id, file));
        return read(info, stream);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping dataset with unreadable {InfoPath}")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string infoPath);
}
