using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelService.Model.Preprocessing;

/// <summary>
/// Standardises row-major blocks of plain numbers for a model whose features are all numeric: (x - mean) / std in double,
/// rounded to float, NaN (missing) replaced by the imputed value. Each feature's mean, std and imputed value are laid out
/// repeating, one slot per value of a row, so that a block is standardised with vector operations; a vector subtraction,
/// division and narrowing round exactly as the same scalar operations, so the bits are those of the per-value path.
/// </summary>
internal sealed class NumericEncoder
{
    private static readonly int FloatLanes = Vector<float>.Count;
    private static readonly int DoubleLanes = Vector<double>.Count;

    private readonly int _width;
    private readonly double[] _means;
    private readonly double[] _stds;
    private readonly float[] _imputed;

    /// <param name="features">Numeric features, in row order.</param>
    public NumericEncoder(IReadOnlyList<Preprocessor.Encoder> features)
    {
        _width = features.Count;
        // A vector that starts at any slot of a row can be loaded from slot (start % width) on.
        var length = _width + FloatLanes;
        _means = new double[length];
        _stds = new double[length];
        _imputed = new float[length];
        for (var i = 0; i < length; i++)
        {
            var feature = features[i % _width];
            (_means[i], _stds[i], _imputed[i]) = (feature.Mean, feature.Std, feature.Imputed);
        }
    }

    /// <summary>Encodes <paramref name="values"/> (float or double; other types a value at a time) into
    /// <paramref name="dst"/> of the same length.</summary>
    public void Encode<T>(ReadOnlySpan<T> values, Span<float> dst)
        where T : INumberBase<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            ref var source = ref MemoryMarshal.GetReference(values);
            ref var target = ref MemoryMarshal.GetReference(dst);
            for (; i <= values.Length - FloatLanes; i += FloatLanes)
            {
                Vector<double> low, high;
                if (typeof(T) == typeof(float))
                {
                    Vector.Widen(Vector.LoadUnsafe(ref Unsafe.As<T, float>(ref source), (nuint)i), out low, out high);
                }
                else
                {
                    low = Vector.LoadUnsafe(ref Unsafe.As<T, double>(ref source), (nuint)i);
                    high = Vector.LoadUnsafe(ref Unsafe.As<T, double>(ref source), (nuint)(i + DoubleLanes));
                }
                var slot = (nuint)(i % _width);
                var next = slot + (nuint)DoubleLanes;
                var standard = Vector.Narrow(
                    (low - Vector.LoadUnsafe(ref _means[0], slot)) / Vector.LoadUnsafe(ref _stds[0], slot),
                    (high - Vector.LoadUnsafe(ref _means[0], next)) / Vector.LoadUnsafe(ref _stds[0], next));
                // A finite input never gives NaN (std > 0), so NaN marks a missing value.
                Vector.ConditionalSelect(Vector.Equals(standard, standard), standard, Vector.LoadUnsafe(ref _imputed[0], slot))
                    .StoreUnsafe(ref target, (nuint)i);
            }
        }
        for (; i < values.Length; i++)
        {
            var slot = i % _width;
            var value = double.CreateTruncating(values[i]);
            dst[i] = double.IsNaN(value) ? _imputed[slot] : (float)((value - _means[slot]) / _stds[slot]);
        }
    }
}
