using System.Buffers;
using System.Runtime.InteropServices;
using ModelService.Model.Data;
using ModelService.Model.Inference;

namespace ModelService.Api.Inference;

/// <summary>The model's input tensor, <see cref="RowCount"/> rows in model feature order: either the raw little-endian
/// FP32/FP64 numbers of a binary or raw request, used where they lie in the request (never copied; the request must
/// outlive the tensor), or feature values decoded from JSON, BYTES or typed contents into a pooled array that
/// <see cref="Dispose"/> returns.</summary>
internal sealed class InputTensor : IDisposable
{
    private readonly int _width;
    private readonly ReadOnlyMemory<byte> _numbers;
    private readonly string? _numberType;
    private readonly TensorLayout? _tensor;
    private FeatureValue[] _values;
    private float[] _floats = [];

    /// <summary>A tensor of feature values to decode into <see cref="Values"/>.</summary>
    public InputTensor(int rowCount, int width)
    {
        RowCount = rowCount;
        _width = width;
        Length = rowCount * width;
        _values = ArrayPool<FeatureValue>.Shared.Rent(Length);
    }

    private InputTensor(int rowCount, int width, ReadOnlyMemory<byte> numbers, string numberType)
    {
        RowCount = rowCount;
        _width = width;
        Length = rowCount * width;
        _numbers = numbers;
        _numberType = numberType;
        _values = [];
    }

    /// <summary>A tensor model's input of <paramref name="layout"/>, to decode into <see cref="Floats"/>.</summary>
    private InputTensor(TensorLayout layout, ReadOnlyMemory<byte> numbers, string? numberType)
    {
        _tensor = layout;
        RowCount = layout.Count;
        _width = layout.SampleSize;
        Length = layout.Count * layout.SampleSize;
        _numbers = numbers;
        _numberType = numberType;
        _values = [];
        if (numberType is null)
        {
            _floats = ArrayPool<float>.Shared.Rent(Length);
        }
    }

    /// <summary>Rows (table models) or samples (tensor models).</summary>
    public int RowCount { get; }

    public int Length { get; }

    /// <summary>Predictions per row: 1, or H x W for a per-position tensor model.</summary>
    public int OutputsPerRow => _tensor?.OutputsPerSample ?? 1;

    public int OutputCount => RowCount * OutputsPerRow;

    /// <summary>Positions the network runs per row: H x W for a tensor model, else 1.</summary>
    public int PositionsPerRow => _tensor is { } tensor ? tensor.Height * tensor.Width : 1;

    /// <summary>The output tensor's shape: [N, 1], or [N, H, W] for a per-position tensor model.</summary>
    public IReadOnlyList<long> OutputShape => _tensor is { } tensor ? tensor.OutputShape : [RowCount, 1];

    /// <summary>The decoded samples of a tensor model's input (empty for raw FP32 numbers used in place).</summary>
    public Span<float> Floats => _floats.AsSpan(0, _tensor is not null && _numberType is null ? Length : 0);

    /// <summary>A tensor model's input to decode into <see cref="Floats"/>.</summary>
    public static InputTensor ForTensor(TensorLayout layout) => new(layout, default, null);

    /// <summary>A tensor model's raw little-endian FP32 samples, already checked to be finite and to fill the layout.</summary>
    public static InputTensor InPlace(ReadOnlyMemory<byte> numbers, TensorLayout layout) => new(layout, numbers, "FP32");

    /// <summary>The decoded values (empty for a tensor of raw numbers).</summary>
    public Span<FeatureValue> Values => _values.AsSpan(0, _tensor is null && _numberType is null ? Length : 0);

    /// <summary>Raw little-endian FP32 or FP64 numbers, already checked to be finite and to fill [rows, width].</summary>
    public static InputTensor InPlace(ReadOnlyMemory<byte> numbers, string datatype, int rowCount, int width) =>
        new(rowCount, width, numbers, datatype);

    /// <summary>Scores rows [<paramref name="start"/>, start + <paramref name="count"/>) into <paramref name="predictions"/>.</summary>
    public void Predict(Predictor model, int start, int count, Span<double> predictions)
    {
        var (offset, length) = (start * _width, count * _width);
        if (_tensor is { } tensor)
        {
            var samples = _numberType is null ? _floats.AsSpan(0, Length) : MemoryMarshal.Cast<byte, float>(_numbers.Span);
            model.PredictTensor(samples.Slice(offset, length), count, tensor.Height, tensor.Width, predictions);
            return;
        }
        switch (_numberType)
        {
            case "FP32":
                model.PredictNumbers(MemoryMarshal.Cast<byte, float>(_numbers.Span).Slice(offset, length), count, predictions);
                break;
            case "FP64":
                model.PredictNumbers(MemoryMarshal.Cast<byte, double>(_numbers.Span).Slice(offset, length), count, predictions);
                break;
            default:
                model.Predict(_values.AsSpan(offset, length), count, predictions);
                break;
        }
    }

    public void Dispose()
    {
        var floats = Interlocked.Exchange(ref _floats, []);
        if (floats.Length > 0)
        {
            ArrayPool<float>.Shared.Return(floats);
        }
        var values = Interlocked.Exchange(ref _values, []);
        if (values.Length > 0)
        {
            // Only the used part can hold label strings; clearing it keeps the pool from holding them alive.
            values.AsSpan(0, Length).Clear();
            ArrayPool<FeatureValue>.Shared.Return(values);
        }
    }
}

/// <summary>A tensor model's input [Count, Height, Width, Channels], and whether the model answers per position.</summary>
internal readonly record struct TensorLayout(int Count, int Height, int Width, int Channels, bool PerPosition)
{
    public int SampleSize => Height * Width * Channels;

    public int OutputsPerSample => PerPosition ? Height * Width : 1;

    public IReadOnlyList<long> OutputShape => PerPosition ? [Count, Height, Width] : [Count, 1];
}
