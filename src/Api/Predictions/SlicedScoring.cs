using System.Buffers;
using System.Text.Json;
using CommunityToolkit.HighPerformance.Buffers;
using ModelService.Api.Errors;
using ModelService.Model.Inference;

namespace ModelService.Api.Predictions;

/// <summary>
/// Scores a large request on every core: the rows array is cut into slices of whole elements
/// (<see cref="PredictionRequestReader.RowsSplit"/>) and each slice is parsed, predicted and formatted as JSON on its
/// own, so that parsing and number formatting, not just the model, run in parallel (on <see cref="ParallelScoring"/>).
/// There are several times as many slices as scoring threads so that a core slowed by other work does not hold the
/// request up.
/// </summary>
internal static class SlicedScoring
{
    /// <summary>Bytes of request per slice at least, so that per-slice costs stay small.</summary>
    private const int MinSliceBytes = 128 * 1024;

    /// <summary>Into how many slices to cut a body of <paramref name="length"/> bytes: 1 (do not split) below
    /// <paramref name="minBytes"/> or with a single scoring thread.</summary>
    public static int SliceCount(int length, int minBytes, ParallelScoring work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (work.MaxParallelism < 2 || length < minBytes)
        {
            return 1;
        }
        return Math.Clamp(length / MinSliceBytes, 2, 4 * work.MaxParallelism);
    }

    /// <summary>One slice scored: its predictions as a JSON array, and how many there are.</summary>
    private sealed record SliceScore(ArrayPoolBufferWriter<byte> Json, int Rows);

    /// <summary>Scores every slice, or returns null when any slice fails (a bad value, malformed JSON, a label for a
    /// numeric feature, a proposed cut that is not between two elements) or the rows exceed <paramref name="maxRows"/>:
    /// the caller then reads the request sequentially, which reports the first error with its true row index.</summary>
    public static PredictionsResult? TryScore(ReadOnlyMemory<byte> json, PredictionRequestReader.Envelope envelope,
        Predictor model, int maxRows, ParallelScoring work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var split = envelope.Split ?? throw new ArgumentException("The envelope was read without slices.", nameof(envelope));
        var cuts = split.Cuts.Cuts;
        var bounds = new (int Start, int End)[cuts.Length + 1];
        for (var index = 0; index < bounds.Length; index++)
        {
            bounds[index] = (index == 0 ? envelope.RowsStart + 1 : cuts[index - 1] + 1, index == cuts.Length ? split.Cuts.Close : cuts[index]);
        }
        var scores = new SliceScore?[bounds.Length];
        work.For(scores.Length, index =>
            (scores[index] = ScoreSlice(json.Span[bounds[index].Start..bounds[index].End], split, envelope.Form, model, maxRows)) is not null);
        return Assemble(scores, model, maxRows);
    }

    /// <summary>Parses, predicts and formats one slice, or returns null when it fails.</summary>
    private static SliceScore? ScoreSlice(ReadOnlySpan<byte> slice, PredictionRequestReader.RowsSplit split, string form, Predictor model,
        int maxRows)
    {
        try
        {
            using var rows = PredictionRequestReader.TryReadSlice(slice, split, form, model, maxRows);
            return rows is null ? null : new SliceScore(Format(model, rows), rows.RowCount);
        }
        catch (Exception e) when (e is JsonException or ApiProblemException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The answer from every slice in order, or null (buffers returned) when one failed or the rows exceed
    /// <paramref name="maxRows"/>.</summary>
    private static PredictionsResult? Assemble(SliceScore?[] scores, Predictor model, int maxRows)
    {
        var total = scores.Sum(s => (long)(s?.Rows ?? 0));
        if (scores.Any(s => s is null) || total > maxRows)
        {
            foreach (var score in scores)
            {
                score?.Json.Dispose();
            }
            return null;
        }
        return new PredictionsResult(model.Manifest.Id, [.. scores.Select(s => s!.Json)], (int)total);
    }

    // The slice's predictions as a JSON array, formatted by Utf8JsonWriter exactly as the sequential path does.
    private static ArrayPoolBufferWriter<byte> Format(Predictor model, FeatureRows rows)
    {
        var predictions = ArrayPool<double>.Shared.Rent(rows.RowCount);
        var output = new ArrayPoolBufferWriter<byte>((rows.RowCount * 20) + 16);
        try
        {
            model.Predict(rows.Values, rows.RowCount, predictions.AsSpan(0, rows.RowCount));
            using var writer = new Utf8JsonWriter(output);
            writer.WriteStartArray();
            for (var i = 0; i < rows.RowCount; i++)
            {
                PredictionsResult.WriteValue(writer, predictions[i]);
            }
            writer.WriteEndArray();
            writer.Flush();
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(predictions);
        }
    }
}
