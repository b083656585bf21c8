using System.Buffers;
using System.Text.Json;
using ModelService.Api.Errors;
using ModelService.Api.Json;
using ModelService.Model.Inference;

namespace ModelService.Api.Predictions;

/// <summary>v1 predictions for a tensor model: <c>{"instances": [[[[...]]]]}</c>, samples nested [N, H, W, C] (null for a
/// missing value, imputed as in training), answered with a number per sample or, for a per-position model, an [H, W]
/// array per sample.</summary>
internal static class TensorPredictions
{
    /// <summary>Scores the instances; bad input throws a 400 (<see cref="ApiProblemException"/>) naming the field.</summary>
    public static PredictionsResult Predict(ReadOnlySpan<byte> json, PredictionRequestReader.Envelope envelope,
        Predictor model, int maxRows, PredictionMetrics metrics, ParallelScoring work)
    {
        var channels = model.InputShape[2];
        var expected = model.PerPosition
            ? $"[N, H, W, {channels}] (any H and W)"
            : $"[N, {model.InputShape[0]}, {model.InputShape[1]}, {channels}]";
        if (envelope.Form != PredictionRequestReader.Instances)
        {
            throw ApiProblemException.Validation(envelope.Form,
                $"Model '{model.Manifest.Id}' takes tensors; send 'instances': samples nested {expected}.");
        }
        var samples = new NestedNumbers(PredictionRequestReader.Instances, [4], expected, long.MaxValue, "", maxRows, "Predictions:MaxRows");
        Read(json, envelope, samples);
        var shape = samples.Shape()!;
        var (count, height, width) = (shape[0], shape[1], shape[2]);
        if (!model.Manifest.Takes(height, width, shape[3]))
        {
            throw ApiProblemException.Validation(PredictionRequestReader.Instances,
                $"'instances' has shape [{string.Join(", ", shape)}]; model '{model.Manifest.Id}' takes {expected}.");
        }
        // The first pass counted the values, each at least one byte of the body: the array is bounded by the body.
        var x = new float[samples.Count];
        Read(json, envelope, samples.Filling(x));
        var perSample = model.PerPosition ? height * width : 1;
        var predictions = ArrayPool<double>.Shared.Rent(count * perSample);
        var sampleSize = height * width * channels;
        work.Slices(count, height * width, (start, samplesInSlice) => model.PredictTensor(x.AsSpan(start * sampleSize, samplesInSlice * sampleSize),
            samplesInSlice, height, width, predictions.AsSpan(start * perSample, samplesInSlice * perSample)));
        metrics.RecordPredictedRows(count, "v1");
        return model.PerPosition
            ? new PredictionsResult(model.Manifest.Id, predictions, count, height, width)
            : new PredictionsResult(model.Manifest.Id, predictions, count);
    }

    private static void Read(ReadOnlySpan<byte> json, PredictionRequestReader.Envelope envelope, NestedNumbers samples)
    {
        var reader = new Utf8JsonReader(json[envelope.RowsStart..], JsonLimits.ReaderOptions);
        reader.Read();
        samples.Read(ref reader);
    }
}
