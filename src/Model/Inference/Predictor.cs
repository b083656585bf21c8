using System.Buffers;
using System.Numerics;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Preprocessing;

namespace ModelService.Model.Inference;

/// <summary>Predicts with a trained model in managed code (no TorchSharp). Immutable and safe for any number of
/// concurrent callers.</summary>
public sealed class Predictor
{
    private const int ChunkRows = ManagedNetwork.BlockRows;

    // Below this many rows the per-row path is cheaper than one kernel call per weight; both give the same bits.
    private const int BlockThreshold = 8;

    private readonly Preprocessor _preprocessor;
    private readonly ManagedNetwork _network;

    /// <summary>Prepares <paramref name="model"/> for prediction (batch norm folded into the convolutions).</summary>
    public Predictor(TrainedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Manifest = model.Manifest;
        _preprocessor = model.Preprocessor;
        _network = new ManagedNetwork(model.Manifest.Network, model.Weights);
    }

    /// <summary>The model's manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>True when every feature is numeric: rows can then be given as plain numbers
    /// (<see cref="PredictNumbers{T}"/>).</summary>
    public bool IsNumeric => _preprocessor.IsNumeric;

    /// <summary>Predicts <paramref name="rowCount"/> rows of raw values (row-major, model feature order) into
    /// <paramref name="predictions"/>, in the target's units.</summary>
    /// <exception cref="ArgumentException">Wrong span lengths, or a numeric feature given a label.</exception>
    public void Predict(ReadOnlySpan<FeatureValue> rows, int rowCount, Span<double> predictions) =>
        Predict<FeatureValue, ValueRows>(rows, rowCount, predictions);

    /// <summary>Predicts <paramref name="rowCount"/> rows of plain numbers (row-major, model feature order, NaN for missing)
    /// for a model whose features are all numeric (<see cref="IsNumeric"/>): the same predictions, bit for bit, as
    /// <see cref="Predict(ReadOnlySpan{FeatureValue}, int, Span{double})"/> gives for the same numbers, without building
    /// feature values first.</summary>
    /// <exception cref="ArgumentException">Wrong span lengths, or the model has a categorical feature.</exception>
    public void PredictNumbers<T>(ReadOnlySpan<T> rows, int rowCount, Span<double> predictions)
        where T : INumberBase<T> =>
        Predict<T, NumberRows<T>>(rows, rowCount, predictions);

    private void Predict<T, TRows>(ReadOnlySpan<T> rows, int rowCount, Span<double> predictions)
        where TRows : IRowEncoder<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        var features = _preprocessor.Features.Count;
        if (rows.Length != rowCount * features)
        {
            throw new ArgumentException($"Expected {rowCount} x {features} values, got {rows.Length}.", nameof(rows));
        }
        if (predictions.Length != rowCount)
        {
            throw new ArgumentException($"Expected room for {rowCount} predictions, got {predictions.Length}.", nameof(predictions));
        }
        var width = _preprocessor.InputWidth;
        var chunk = Math.Min(rowCount, ChunkRows);
        float[]? rented = null;
        var encoded = chunk * width <= 1024
            ? stackalloc float[chunk * width]
            : (rented = ArrayPool<float>.Shared.Rent(chunk * width)).AsSpan(0, chunk * width);
        Span<float> forward = stackalloc float[chunk];
        try
        {
            for (var start = 0; start < rowCount; start += chunk)
            {
                var count = Math.Min(chunk, rowCount - start);
                var inputs = encoded[..(count * width)];
                TRows.Encode(_preprocessor, rows.Slice(start * features, count * features), count, inputs);
                if (count < BlockThreshold)
                {
                    for (var r = 0; r < count; r++)
                    {
                        predictions[start + r] = _preprocessor.UnscaleTarget(_network.Forward(inputs.Slice(r * width, width)));
                    }
                    continue;
                }
                var outputs = forward[..count];
                _network.Forward(inputs, count, outputs);
                for (var r = 0; r < count; r++)
                {
                    predictions[start + r] = _preprocessor.UnscaleTarget(outputs[r]);
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>How a kind of row value is encoded into network inputs; a static interface so that the chunk loop above is
    /// compiled once per kind, with no call through a delegate per chunk.</summary>
    private interface IRowEncoder<T>
    {
        static abstract void Encode(Preprocessor preprocessor, ReadOnlySpan<T> rows, int rowCount, Span<float> inputs);
    }

    private readonly struct ValueRows : IRowEncoder<FeatureValue>
    {
        public static void Encode(Preprocessor preprocessor, ReadOnlySpan<FeatureValue> rows, int rowCount, Span<float> inputs) =>
            preprocessor.Encode(rows, rowCount, inputs);
    }

    private readonly struct NumberRows<T> : IRowEncoder<T>
        where T : INumberBase<T>
    {
        public static void Encode(Preprocessor preprocessor, ReadOnlySpan<T> rows, int rowCount, Span<float> inputs) =>
            preprocessor.EncodeNumbers(rows, rowCount, inputs);
    }
}
