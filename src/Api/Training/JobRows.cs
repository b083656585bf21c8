using System.Data.Common;
using System.Text.Json;
using ModelService.Api.Json;
using ModelService.Model.Serialization;

namespace ModelService.Api.Training;

/// <summary>The job row as both stores keep it: the columns they select, in order, and their mapping to
/// <see cref="TrainingJob"/>. A status is stored as its wire name ("queued", ...) and the request as its JSON, so the
/// rows written before the enums existed read back unchanged.</summary>
internal static class JobRows
{
    public const string Columns =
        "id, status, created_at, started_at, finished_at, request, epoch, epochs, train_loss, validation_loss, model_id, error, attempts, worker";

    /// <summary>The columns of <c>job_epochs</c> that <see cref="WithHistories"/> reads, in order.</summary>
    public const string EpochColumns = "job_id, epoch, train_loss, validation_loss";

    public static string Stored(JobStatus status) => WireNames.Of(status);

    public static string Stored(TrainingRequest request) => JsonSerializer.Serialize(request, ApiJsonContext.Default.TrainingRequest);

    /// <summary>One row of <see cref="Columns"/>, without its history; <paramref name="time"/> reads the provider's
    /// timestamp column (null when the cell is).</summary>
    public static TrainingJob Read(DbDataReader reader, Func<DbDataReader, int, DateTimeOffset?> time) => new(
        reader.GetString(0),
        WireNames.Parse<JobStatus>(reader.GetString(1)),
        time(reader, 2)!.Value,
        time(reader, 3),
        time(reader, 4),
        JsonSerializer.Deserialize(reader.GetString(5), ApiJsonContext.Default.TrainingRequest)!,
        new JobProgress(reader.GetInt32(6), reader.GetInt32(7), NullableDouble(reader, 8), NullableDouble(reader, 9)),
        [],
        NullableString(reader, 10),
        NullableString(reader, 11),
        reader.GetInt32(12),
        NullableString(reader, 13));

    /// <summary>The jobs with their histories, read from rows of <see cref="EpochColumns"/> ordered by job and epoch.</summary>
    public static List<TrainingJob> WithHistories(List<TrainingJob> jobs, DbDataReader epochs)
    {
        var histories = new Dictionary<string, List<EpochLoss>>(StringComparer.Ordinal);
        while (epochs.Read())
        {
            var id = epochs.GetString(0);
            if (!histories.TryGetValue(id, out var history))
            {
                histories[id] = history = [];
            }
            history.Add(new EpochLoss(epochs.GetInt32(1), epochs.GetDouble(2), NullableDouble(epochs, 3)));
        }
        return [.. jobs.Select(job => job with { History = histories.TryGetValue(job.Id, out var history) ? history : [] })];
    }

    /// <summary>Rows of (status, count).</summary>
    public static Dictionary<JobStatus, long> Counts(DbDataReader reader)
    {
        var counts = new Dictionary<JobStatus, long>();
        while (reader.Read())
        {
            counts[WireNames.Parse<JobStatus>(reader.GetString(0))] = reader.GetInt64(1);
        }
        return counts;
    }

    public static double? NullableDouble(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);

    public static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
