using System.Buffers;
using ModelService.Model.Data;

namespace ModelService.Api.Predictions;

/// <summary>Rows of raw feature values in model order, in a pooled buffer; return it with <see cref="Dispose"/>.</summary>
internal sealed class FeatureRows(FeatureValue[] values, int rowCount, int width) : IDisposable
{
    private FeatureValue[] _values = values;

    public int RowCount { get; } = rowCount;

    public int Width { get; } = width;

    public ReadOnlySpan<FeatureValue> Values => _values.AsSpan(0, RowCount * Width);

    public ReadOnlyMemory<FeatureValue> Memory => _values.AsMemory(0, RowCount * Width);

    public void Dispose()
    {
        var values = Interlocked.Exchange(ref _values, []);
        if (values.Length > 0)
        {
            ArrayPool<FeatureValue>.Shared.Return(values, clearArray: true);
        }
    }
}

/// <summary>A growable pooled array of rows, each starting all-missing.</summary>
internal sealed class RowBuffer(int width) : IDisposable
{
    private FeatureValue[] _values = ArrayPool<FeatureValue>.Shared.Rent(Math.Max(width, 1) * 256);

    public int RowCount { get; private set; }

    public Span<FeatureValue> AddRow()
    {
        var end = (RowCount + 1) * width;
        if (end > _values.Length)
        {
            var larger = ArrayPool<FeatureValue>.Shared.Rent(_values.Length * 2);
            _values.AsSpan(0, RowCount * width).CopyTo(larger);
            ArrayPool<FeatureValue>.Shared.Return(_values, clearArray: true);
            _values = larger;
        }
        var row = _values.AsSpan(RowCount * width, width);
        row.Fill(FeatureValue.Missing);
        RowCount++;
        return row;
    }

    public FeatureRows Detach()
    {
        var rows = new FeatureRows(_values, RowCount, width);
        _values = [];
        return rows;
    }

    public void Dispose()
    {
        if (_values.Length > 0)
        {
            ArrayPool<FeatureValue>.Shared.Return(_values, clearArray: true);
            _values = [];
        }
    }
}
