using ModelService.Api.Storage;
using ModelService.Api.Models;
using ModelService.Model.Artifacts;
using Npgsql;

namespace ModelService.Api.Postgres;

/// <summary>Models in the <c>models</c> table (the bytes of manifest.json and weights.bin, as the local provider keeps
/// them in files) and the active pointer in <c>active_model</c>, which references a model, so the active model can
/// never be deleted. Changing the pointer notifies every process.</summary>
internal sealed class PostgresModelStore(PostgresDatabase db) : IModelStore
{
    private const string ForeignKeyViolation = "23503";

    public IReadOnlyList<ModelEntry> List() => db.Run(connection =>
    {
        using var command = PostgresDatabase.Command(connection, "SELECT id, created_at, manifest FROM models");
        using var reader = command.ExecuteReader();
        var result = new List<ModelEntry>();
        while (reader.Read())
        {
            result.Add(Describe(reader));
        }
        return result;
    });

    public ModelEntry? Find(string id) => !Ids.IsModelId(id) ? null : db.Run(connection =>
    {
        using var command = PostgresDatabase.Command(connection, "SELECT id, created_at, manifest FROM models WHERE id = $1", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Describe(reader) : null;
    });

    public TrainedModel? Load(string id) => ReadFiles(id) is { } files ? ModelArtifact.Load(files, $"model {id}") : null;

    public ModelFiles? ReadFiles(string id) => !Ids.IsModelId(id) ? null : db.Run(connection =>
    {
        using var command = PostgresDatabase.Command(connection, "SELECT manifest, weights FROM models WHERE id = $1", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new ModelFiles(reader.GetFieldValue<byte[]>(0), reader.GetFieldValue<byte[]>(1)) : null;
    });

    public void Save(TrainedModel model) => db.Run(connection => Insert(connection, model));

    public ModelChange Delete(string id)
    {
        if (!Ids.IsModelId(id))
        {
            return ModelChange.NotFound;
        }
        try
        {
            return db.Run(connection => PostgresDatabase.Execute(connection, "DELETE FROM models WHERE id = $1", id)) == 1
                ? ModelChange.Done
                : ModelChange.NotFound;
        }
        catch (PostgresException e) when (e.SqlState == ForeignKeyViolation)
        {
            return ModelChange.IsActive;
        }
    }

    public string? ReadActivePointer() => db.Run(connection => PostgresDatabase.Scalar(connection, "SELECT model_id FROM active_model") as string);

    public void SetActive(string id) => db.InTransaction((connection, _) => SetActive(connection, id));

    public TrainedModel? InstallIfEmpty(Func<TrainedModel> create) => db.InTransaction((connection, _) =>
    {
        PostgresDatabase.Execute(connection, "SELECT pg_advisory_xact_lock($1)", PostgresMigrations.FirstModelLock);
        if (PostgresDatabase.Scalar(connection, "SELECT EXISTS (SELECT 1 FROM models)") is true)
        {
            return null;
        }
        var model = create();
        Insert(connection, model);
        SetActive(connection, model.Manifest.Id);
        return model;
    });

    /// <summary>Inserts a model on <paramref name="connection"/> (inside the caller's transaction, if any).</summary>
    public static int Insert(NpgsqlConnection connection, TrainedModel model)
    {
        var files = ModelArtifact.Serialize(model);
        return PostgresDatabase.Execute(connection, "INSERT INTO models (id, created_at, manifest, weights) VALUES ($1, $2, $3, $4)",
            model.Manifest.Id, model.Manifest.CreatedAt.ToUniversalTime(), files.Manifest, files.Weights);
    }

    /// <summary>Moves the pointer and announces it; the notification is delivered when the transaction commits.</summary>
    public static void SetActive(NpgsqlConnection connection, string id)
    {
        PostgresDatabase.Execute(connection, """
            INSERT INTO active_model (singleton, model_id) VALUES (true, $1) ON CONFLICT (singleton) DO UPDATE SET model_id = excluded.model_id
            """, id);
        PostgresDatabase.Notify(connection, PostgresDatabase.ActiveModelChannel, id);
    }

    private static ModelEntry Describe(NpgsqlDataReader reader)
    {
        var id = reader.GetString(0);
        try
        {
            var manifest = ModelArtifact.ReadManifest(reader.GetFieldValue<byte[]>(2), $"model {id}");
            return new ModelEntry(id, manifest.CreatedAt, manifest, null);
        }
        catch (InvalidModelArtifactException e)
        {
            return new ModelEntry(id, PostgresDatabase.ReadTime(reader, 1)!.Value, null, e.Message);
        }
    }
}
