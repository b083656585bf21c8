using System.Security.Cryptography;
using System.Text.Json;
using ModelService.Api.Datasets;
using ModelService.Api.Json;
using ModelService.Api.Storage;
using ModelService.Model.Data;

namespace ModelService.Api.Postgres;

/// <summary>Datasets in the <c>datasets</c> table: the normalised CSV (<see cref="DatasetCsv"/>, the same bytes the local
/// provider keeps in a file) and the info as JSON.</summary>
internal sealed partial class PostgresDatasetStore(PostgresDatabase db, TimeProvider clock, ILogger<PostgresDatasetStore> logger)
    : IDatasetStore
{
    public DatasetInfo Save(string name, DataTable table, IReadOnlyList<ColumnInfo> columns)
    {
        using var csv = new MemoryStream();
        DatasetCsv.Write(table, csv);
        var data = csv.ToArray();
        var info = new DatasetInfo(Ids.NewDatasetId(), name, table.RowCount, Convert.ToHexStringLower(SHA256.HashData(data)),
            PostgresDatabase.ToMicroseconds(clock.GetUtcNow()), columns);
        db.Run(connection => PostgresDatabase.Execute(connection,
            "INSERT INTO datasets (id, created_at, info, data) VALUES ($1, $2, $3, $4)",
            info.Id, info.CreatedAt, JsonSerializer.Serialize(info, ApiJsonContext.Default.DatasetInfo), data));
        LogStored(logger, info.Id, info.RowCount, info.Columns.Count);
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

    public DataTable? Load(string id) => !Ids.IsDatasetId(id) ? null : db.Run(connection =>
    {
        using var command = PostgresDatabase.Command(connection, "SELECT info, data FROM datasets WHERE id = $1", id);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var info = JsonSerializer.Deserialize(reader.GetString(0), ApiJsonContext.Default.DatasetInfo)!;
        using var data = reader.GetStream(1);
        return DatasetCsv.Read(data, info);
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
            LogDeleted(logger, id);
        }
        return result;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored dataset {DatasetId} with {RowCount} rows and {ColumnCount} columns")]
    private static partial void LogStored(ILogger logger, string datasetId, int rowCount, int columnCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted dataset {DatasetId}")]
    private static partial void LogDeleted(ILogger logger, string datasetId);
}
