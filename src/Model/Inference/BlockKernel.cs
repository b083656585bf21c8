using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelService.Model.Inference;

/// <summary>
/// y = W x + b over a block of examples stored feature-major (row j of x holds input j of every example), the inner loop
/// of the batched forward pass. Each output is accumulated as b[o], then + W[o, 0]·x[0], + W[o, 1]·x[1], ... with the
/// multiply and the add rounded separately, never fused: the order and roundings of the one-row path, so a row gets the
/// same bits whichever path it takes.
/// </summary>
/// <remarks>Four outputs of two vectors of examples are kept in registers while the inputs stream past them, so each
/// input vector is loaded once per four outputs, each weight once per two vectors, and no partial sum goes through
/// memory.</remarks>
internal static class BlockKernel
{
    private const int Tile = 4;

    /// <param name="matrix">W, [outputs, inputs] row-major.</param>
    /// <param name="bias">b, one per output.</param>
    /// <param name="inputs">Inputs per example.</param>
    /// <param name="x">[inputs, n].</param>
    /// <param name="n">Examples in the block.</param>
    /// <param name="y">[outputs, n].</param>
    public static void MultiplyAccumulate(ReadOnlySpan<float> matrix, ReadOnlySpan<float> bias, int inputs, ReadOnlySpan<float> x, int n,
        Span<float> y)
    {
        var outputs = bias.Length;
        if (matrix.Length != outputs * inputs || x.Length < inputs * n || y.Length < outputs * n)
        {
            throw new ArgumentException($"Expected W [{outputs}, {inputs}], x [{inputs}, {n}] and y [{outputs}, {n}].");
        }
        ref var w = ref MemoryMarshal.GetReference(matrix);
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ys = ref MemoryMarshal.GetReference(y);
        var width = Vector<float>.Count;
        var r = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; r <= n - (2 * width); r += 2 * width)
            {
                var o = 0;
                for (; o <= outputs - Tile; o += Tile)
                {
                    Tile4(ref Unsafe.Add(ref w, o * inputs), bias.Slice(o, Tile), inputs, ref Unsafe.Add(ref xs, r), n,
                        ref Unsafe.Add(ref ys, (o * n) + r));
                }
                for (; o < outputs; o++)
                {
                    ref var row = ref Unsafe.Add(ref w, o * inputs);
                    var a0 = new Vector<float>(bias[o]);
                    var a1 = a0;
                    for (var i = 0; i < inputs; i++)
                    {
                        var weight = new Vector<float>(Unsafe.Add(ref row, i));
                        a0 += weight * Vector.LoadUnsafe(ref xs, (nuint)((i * n) + r));
                        a1 += weight * Vector.LoadUnsafe(ref xs, (nuint)((i * n) + r + width));
                    }
                    a0.StoreUnsafe(ref ys, (nuint)((o * n) + r));
                    a1.StoreUnsafe(ref ys, (nuint)((o * n) + r + width));
                }
            }
        }
        for (; r < n; r++)
        {
            for (var o = 0; o < outputs; o++)
            {
                var a = bias[o];
                for (var i = 0; i < inputs; i++)
                {
                    a += matrix[(o * inputs) + i] * x[(i * n) + r];
                }
                y[(o * n) + r] = a;
            }
        }
    }

    /// <summary>Four outputs (rows of <paramref name="w"/>) of two vectors of examples: eight sums in registers.</summary>
    private static void Tile4(ref float w, ReadOnlySpan<float> bias, int inputs, ref float x, int n, ref float y)
    {
        var width = Vector<float>.Count;
        var a0 = new Vector<float>(bias[0]);
        var a1 = new Vector<float>(bias[1]);
        var a2 = new Vector<float>(bias[2]);
        var a3 = new Vector<float>(bias[3]);
        var b0 = a0;
        var b1 = a1;
        var b2 = a2;
        var b3 = a3;
        for (var i = 0; i < inputs; i++)
        {
            var xa = Vector.LoadUnsafe(ref x, (nuint)(i * n));
            var xb = Vector.LoadUnsafe(ref x, (nuint)((i * n) + width));
            var w0 = new Vector<float>(Unsafe.Add(ref w, i));
            var w1 = new Vector<float>(Unsafe.Add(ref w, inputs + i));
            var w2 = new Vector<float>(Unsafe.Add(ref w, (2 * inputs) + i));
            var w3 = new Vector<float>(Unsafe.Add(ref w, (3 * inputs) + i));
            a0 += w0 * xa;
            b0 += w0 * xb;
            a1 += w1 * xa;
            b1 += w1 * xb;
            a2 += w2 * xa;
            b2 += w2 * xb;
            a3 += w3 * xa;
            b3 += w3 * xb;
        }
        a0.StoreUnsafe(ref y);
        b0.StoreUnsafe(ref y, (nuint)width);
        a1.StoreUnsafe(ref y, (nuint)n);
        b1.StoreUnsafe(ref y, (nuint)(n + width));
        a2.StoreUnsafe(ref y, (nuint)(2 * n));
        b2.StoreUnsafe(ref y, (nuint)((2 * n) + width));
        a3.StoreUnsafe(ref y, (nuint)(3 * n));
        b3.StoreUnsafe(ref y, (nuint)((3 * n) + width));
    }
}
