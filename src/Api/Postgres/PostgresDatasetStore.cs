using System.Security.Cryptography;
using System.Text.Json;
using ModelService.Api.Datasets;
using ModelService.Api.Json;
using ModelService.Api.Storage;
using ModelService.Model.Data;
using Npgsql;

namespace ModelService.Api.Postgres;

/// <summary>Datasets in the <c>datasets</c> table: the normalised CSV (<see cref="DatasetCsv"/>) or .npz
/// (<see cref="NpzArchive"/>), the same bytes the local provider keeps in a file, and the info as JSON (which says the
/// kind, so the schema needs no column for it).</summary>
internal sealed class PostgresDatasetStore(PostgresDatabase db, TimeProvider clock, ILogger<PostgresDatasetStore> logger)
    : IDatasetStore
{
    public DatasetInfo Save(string name, DataTable table, IReadOnlyList<ColumnInfo> columns) =>
        Store(stream => DatasetCsv.Write(table, stream),
            (id, sha256, createdAt) => new DatasetInfo(id, name, table.RowCount, sha256, createdAt, columns));

    public DatasetInfo SaveTensor(string name, TensorData data, TensorSummary summary) =>
        Store(stream => NpzArchive.Write(data, stream),
            (id, sha256, createdAt) => DatasetInfo.ForTensor(id, name, sha256, createdAt, data, summary));

    private DatasetInfo Store(Action<Stream> write, Func<string, string, DateTimeOffset, DatasetInfo> describe)
    {
        using var stream = new MemoryStream();
        write(stream);
        // The written bytes in place, not a copy: a tensor dataset's archive can be a hundred megabytes.
        var data = new ArraySegment<byte>(stream.GetBuffer(), 0, (int)stream.Length);
        var info = describe(Ids.NewDatasetId(), Convert.ToHexStringLower(SHA256.HashData(data)),
            PostgresDatabase.ToMicroseconds(clock.GetUtcNow()));
        db.Run(connection => PostgresDatabase.Execute(connection,
            "INSERT INTO datasets (id, created_at, info, data) VALUES ($1, $2, $3, $4)",
            info.Id, info.CreatedAt, JsonSerializer.Serialize(info, ApiJsonContext.Default.DatasetInfo), data));
        DatasetStoreLog.Stored(logger, info);
        return info;
    }

    public IReadOnlyList<DatasetInfo> List() => db.Run(connection =>
    {
        using var command = PostgresDatabase.Command(connection, "SELECT info FROM datasets ORDER BY created_at DESC, id DESC");
        using var reader = command.ExecuteReader();
        var result = new List<DatasetInfo>();
        while (reader.Read())
        {
            result.Add(JsonSerializer.Deserialize(reader.GetString(0), ApiJsonContext.Default.DatasetInfo)!);
        }
        return result;
    });

    public DatasetInfo? Get(string id) => !Ids.IsDatasetId(id) ? null : db.Run(connection =>
        PostgresDatabase.Scalar(connection, "SELECT info FROM datasets WHERE id = $1", id) is string json
            ? JsonSerializer.Deserialize(json, ApiJsonContext.Default.DatasetInfo)
            : null);

    public DataTable? Load(string id) => Read(id, InputKind.Table, (info, reader) =>
    {
        using var data = reader.GetStream(1);
        return DatasetCsv.Read(data, info);
    });

    /// <summary>The archive reader needs a seekable stream, so the bytes are read whole.</summary>
    public TensorData? LoadTensor(string id) => Read(id, InputKind.Tensor, (_, reader) =>
    {
        using var data = new MemoryStream(reader.GetFieldValue<byte[]>(1), writable: false);
        return NpzArchive.Read(data, long.MaxValue, "stored");
    });

    private T? Read<T>(string id, InputKind kind, Func<DatasetInfo, NpgsqlDataReader, T> read)
        where T : class => !Ids.IsDatasetId(id) ? null : db.Run(connection =>
    {
        using var command = PostgresDatabase.Command(connection, "SELECT info, data FROM datasets WHERE id = $1", id);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var info = JsonSerializer.Deserialize(reader.GetString(0), ApiJsonContext.Default.DatasetInfo)!;
        if (info.Kind != kind)
        {
            throw new DatasetKindException(id, info.Kind);
        }
        return read(info, reader);
    });

    public DatasetDeletion Delete(string id)
    {
        if (!Ids.IsDatasetId(id))
        {
            return DatasetDeletion.NotFound;
        }
        // The row lock orders this against PostgresJobStore.Create, which takes a share lock on the same row.
        var result = db.InTransaction((connection, _) =>
        {
            if (PostgresDatabase.Scalar(connection, "SELECT id FROM datasets WHERE id = $1 FOR UPDATE", id) is null)
            {
                return DatasetDeletion.NotFound;
            }
            if (PostgresDatabase.Scalar(connection,
                "SELECT EXISTS (SELECT 1 FROM jobs WHERE dataset_id = $1 AND status IN ('queued', 'running'))", id) is true)
            {
                return DatasetDeletion.InUse;
            }
            PostgresDatabase.Execute(connection, "DELETE FROM datasets WHERE id = $1", id);
            return DatasetDeletion.Deleted;
        });
        if (result == DatasetDeletion.Deleted)
        {
            DatasetStoreLog.Deleted(logger, id);
        }
        return result;
    }
}
