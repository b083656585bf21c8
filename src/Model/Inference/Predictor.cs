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

    // A chunk of wide rows (large flatten-dense samples) is cut down to this many encoded values.
    private const int MaxChunkValues = 65536;

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

    /// <summary>True when the model takes tensor samples (<see cref="PredictTensor"/>) rather than table rows.</summary>
    public bool TakesTensors => Manifest.TakesTensors;

    /// <summary>True when the model predicts one value per position and takes any height and width.</summary>
    public bool PerPosition => Manifest.PerPosition;

    /// <summary>One sample's input shape as trained, [Height, Width, Channels]; see <see cref="ModelManifest.InputShape"/>.</summary>
    public IReadOnlyList<int> InputShape => Manifest.InputShape;

    /// <summary>One sample's output shape for an input of <paramref name="height"/> x <paramref name="width"/>: [] or
    /// [height, width].</summary>
    public IReadOnlyList<int> OutputShape(int height, int width) => Manifest.OutputShape(height, width);

    /// <summary>Predicts <paramref name="rowCount"/> rows of raw values (row-major, model feature order) into
    /// <paramref name="predictions"/>, in the target's units.</summary>
    /// <exception cref="ArgumentException">Wrong span lengths, a numeric feature given a label, or a tensor model.</exception>
    public void Predict(ReadOnlySpan<FeatureValue> rows, int rowCount, Span<double> predictions) =>
        PredictRows<FeatureValue, ValueRows>(rows, rowCount, predictions);

    /// <summary>Predicts <paramref name="rowCount"/> rows of plain numbers (row-major, model feature order, NaN for missing)
    /// for a model whose features are all numeric (<see cref="IsNumeric"/>): the same predictions, bit for bit, as
    /// <see cref="Predict(ReadOnlySpan{FeatureValue}, int, Span{double})"/> gives for the same numbers, without building
    /// feature values first.</summary>
    /// <exception cref="ArgumentException">Wrong span lengths, the model has a categorical feature, or it is a tensor
    /// model.</exception>
    public void PredictNumbers<T>(ReadOnlySpan<T> rows, int rowCount, Span<double> predictions)
        where T : INumberBase<T> =>
        PredictRows<T, NumberRows<T>>(rows, rowCount, predictions);

    /// <summary>
    /// Predicts <paramref name="count"/> samples of raw values [count, height, width, channels] (channels last, C order, NaN
    /// for missing) of a tensor model (<see cref="TakesTensors"/>) into <paramref name="outputs"/>, in the target's units:
    /// one value per sample, or for a per-position model [count, height, width], one per position. A per-position model
    /// takes any height and width and gives a position the same bits whatever the rest of the input; a flatten-dense model
    /// takes only its trained height and width.
    /// </summary>
    /// <exception cref="ArgumentException">A table model, a shape the model does not take, or wrong span lengths.</exception>
    public void PredictTensor(ReadOnlySpan<float> x, int count, int height, int width, Span<double> outputs)
    {
        if (!TakesTensors)
        {
            throw new ArgumentException("The model takes table rows, not tensors.", nameof(x));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var shape = InputShape;
        var channels = shape[2];
        if (height < 1 || width < 1)
        {
            throw new ArgumentException($"A sample's height and width must be positive, got [{height}, {width}].", nameof(height));
        }
        if (!Manifest.Takes(height, width, channels))
        {
            throw new ArgumentException(
                $"The model takes samples of shape [{shape[0]}, {shape[1]}, {channels}] (its flatten-dense head was trained on that "
                + $"height and width); got [{height}, {width}, {channels}].", nameof(height));
        }
        var positions = (long)height * width;
        if (x.Length != count * positions * channels)
        {
            throw new ArgumentException(
                $"Expected {count} x [{height}, {width}, {channels}] = {count * positions * channels} values, got {x.Length}.", nameof(x));
        }
        var perSample = PerPosition ? positions : 1;
        if (outputs.Length != count * perSample)
        {
            throw new ArgumentException($"Expected room for {count * perSample} outputs, got {outputs.Length}.", nameof(outputs));
        }
        // A per-position model runs every position as a row of C channels; a flatten-dense one every sample as a row.
        var rows = (int)(count * perSample);
        Run<float, NumberRows<float>>(x, rows, _network.RowWidth, outputs);
    }

    private void PredictRows<T, TRows>(ReadOnlySpan<T> rows, int rowCount, Span<double> predictions)
        where TRows : IRowEncoder<T>
    {
        if (TakesTensors)
        {
            throw new ArgumentException("The model takes tensors ([height, width, channels] per sample), not table rows.", nameof(rows));
        }
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
        Run<T, TRows>(rows, rowCount, features, predictions);
    }

    /// <summary>Encodes and runs <paramref name="rowCount"/> network rows of <paramref name="valuesPerRow"/> raw values each
    /// (a table row's features, a tensor sample, or one position's channels) in chunks.</summary>
    private void Run<T, TRows>(ReadOnlySpan<T> rows, int rowCount, int valuesPerRow, Span<double> predictions)
        where TRows : IRowEncoder<T>
    {
        var width = _network.RowWidth;
        // The preprocessor's records per network row: 1 for a table row, the positions of a flatten-dense tensor sample.
        var records = valuesPerRow / _preprocessor.Features.Count;
        var chunk = Math.Min(rowCount, Math.Clamp(MaxChunkValues / width, 1, ChunkRows));
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
                TRows.Encode(_preprocessor, rows.Slice(start * valuesPerRow, count * valuesPerRow), count * records, inputs);
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
