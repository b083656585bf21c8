using System.Data.Common;
using System.Text.Json;
using ModelService.Api.Json;
using ModelService.Api.Training;
using ModelService.Model.Serialization;

namespace ModelService.Api.Sweeps;

/// <summary>The sweep row as both job stores keep it (a row of <c>jobs</c> with kind 'sweep'): the columns they select,
/// in order, and their mapping to <see cref="SweepJob"/>; and the runs' epochs from <c>sweep_epochs</c>.</summary>
internal static class SweepRows
{
    public const string Columns =
        "id, status, created_at, started_at, finished_at, payload, epoch, epochs, outcome, model_id, error, attempts, worker";

    /// <summary>The columns of <c>sweep_epochs</c> that <see cref="Epochs"/> reads, in order.</summary>
    public const string EpochColumns = "run, epoch, train_loss, validation_loss";

    /// <summary>One row of <see cref="Columns"/>, without its epochs; <paramref name="time"/> reads the provider's
    /// timestamp column (null when the cell is).</summary>
    public static SweepJob Read(DbDataReader reader, Func<DbDataReader, int, DateTimeOffset?> time) => new(
        reader.GetString(0),
        WireNames.Parse<JobStatus>(reader.GetString(1)),
        time(reader, 2)!.Value,
        time(reader, 3),
        time(reader, 4),
        JsonSerializer.Deserialize(reader.GetString(5), ApiJsonContext.Default.SweepPlan)!,
        new JobProgress(reader.GetInt32(6), reader.GetInt32(7), null, null),
        [],
        reader.IsDBNull(8) ? null : JsonSerializer.Deserialize(reader.GetString(8), ApiJsonContext.Default.SweepOutcome),
        JobRows.NullableString(reader, 9),
        JobRows.NullableString(reader, 10),
        reader.GetInt32(11),
        JobRows.NullableString(reader, 12));

    /// <summary>Rows of <see cref="EpochColumns"/>.</summary>
    public static List<RunEpoch> Epochs(DbDataReader reader)
    {
        var epochs = new List<RunEpoch>();
        while (reader.Read())
        {
            epochs.Add(new RunEpoch(reader.GetInt32(0), reader.GetInt32(1), reader.GetDouble(2), JobRows.NullableDouble(reader, 3)));
        }
        return epochs;
    }
}
