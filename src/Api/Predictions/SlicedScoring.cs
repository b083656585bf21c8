using System.Buffers;
using System.Text.Json;
using CommunityToolkit.HighPerformance.Buffers;
using ModelService.Api.Infrastructure;
using ModelService.Model.Inference;

namespace ModelService.Api.Predictions;

/// <summary>
/// Scores a large request on every core: the rows array is cut into slices of whole elements
/// (<see cref="PredictionRequestReader.RowsSplit"/>) and each slice is parsed, predicted and formatted as JSON on its
/// own, so that parsing and number formatting, not just the model, run in parallel. Slices hold several times as many
/// as there are cores so that a core slowed by other work does not hold the request up.
/// </summary>
internal static class SlicedScoring
{
    /// <summary>Bytes of request per slice at least, so that per-slice costs stay small.</summary>
    private const int MinSliceBytes = 128 * 1024;

    /// <summary>Into how many slices to cut a body of <paramref name="length"/> bytes: 1 (do not split) below
    /// <paramref name="minBytes"/> or on a single core.</summary>
    public static int SliceCount(int length, int minBytes)
    {
        var cores = Environment.ProcessorCount;
        if (cores < 2 || length < minBytes)
        {
            return 1;
        }
        return Math.Clamp(length / MinSliceBytes, 2, 4 * cores);
    }

    /// <summary>Scores every slice, or returns null when any slice fails (a bad value, malformed JSON, a label for a
    /// numeric feature, a proposed cut that is not between two elements) or the rows exceed <paramref name="maxRows"/>:
    /// the caller then reads the request sequentially, which reports the first error with its true row index.</summary>
    public static PredictionsResult? TryScore(ReadOnlyMemory<byte> json, PredictionRequestReader.Envelope envelope,
        Predictor model, int maxRows)
    {
        var split = envelope.Split ?? throw new ArgumentException("The envelope was read without slices.", nameof(envelope));
        var cuts = split.Cuts.Cuts;
        var slices = new ArrayPoolBufferWriter<byte>?[cuts.Length + 1];
        var counts = new int[slices.Length];
        var failed = false;
        // One worker per core: more would only take turns on the cores, while slices stay plentiful for balance.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, slices.Length, parallel, (index, loop) =>
        {
            var start = index == 0 ? envelope.RowsStart + 1 : cuts[index - 1] + 1;
            var end = index == cuts.Length ? split.Cuts.Close : cuts[index];
            try
            {
                using var rows = PredictionRequestReader.TryReadSlice(json.Span[start..end], split, envelope.Form, model);
                if (rows is null)
                {
                    failed = true;
                    loop.Stop();
                    return;
                }
                slices[index] = Format(model, rows);
                counts[index] = rows.RowCount;
            }
            catch (Exception e) when (e is JsonException or ApiProblemException or ArgumentException)
            {
                failed = true;
                loop.Stop();
            }
        });
        var total = counts.Sum(c => (long)c);
        if (failed || total > maxRows)
        {
            foreach (var slice in slices)
            {
                slice?.Dispose();
            }
            return null;
        }
        return new PredictionsResult(model.Manifest.Id, slices!, (int)total);
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
