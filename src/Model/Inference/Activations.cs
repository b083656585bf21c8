using System.Numerics.Tensors;
using ModelService.Model.Network;

namespace ModelService.Model.Inference;

/// <summary>The activations of <see cref="Activation"/> applied in place, matching LibTorch's definitions. Each is the same
/// element-wise function whatever the span's length (no separate vector approximation), so a value gets the same result
/// in a one-row span and in a block.</summary>
internal static class Activations
{
    private const double InverseSqrt2 = 0.70710678118654752440;

    public static void Apply(Activation activation, Span<float> values)
    {
        switch (activation)
        {
            case Activation.Relu:
                TensorPrimitives.Max(values, 0f, values);
                break;
            case Activation.LeakyRelu:
                foreach (ref var v in values)
                {
                    v = v >= 0 ? v : (float)(v * ConvRegressor.LeakyReluSlope);
                }
                break;
            case Activation.Gelu:
                foreach (ref var v in values)
                {
                    v = Gelu(v);
                }
                break;
            case Activation.Tanh:
                foreach (ref var v in values)
                {
                    v = float.Tanh(v);
                }
                break;
            case Activation.Sigmoid:
                foreach (ref var v in values)
                {
                    v = 1f / (1f + float.Exp(-v));
                }
                break;
            default:
                throw new InvalidOperationException($"Unknown activation {activation}.");
        }
    }

    /// <summary>Exact GELU, x·Φ(x) = x·erfc(-x/√2)/2.</summary>
    public static float Gelu(float x) => (float)(0.5 * x * Erfc(-x * InverseSqrt2));

    /// <summary>Complementary error function with a relative error below 1.2e-7 everywhere (Chebyshev fit, Numerical
    /// Recipes §6.2), so the tail of GELU for negative inputs stays accurate too.</summary>
    public static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + (0.5 * z));
        var poly = -1.26551223 + (t * (1.00002368 + (t * (0.37409196 + (t * (0.09678418 + (t * (-0.18628806
            + (t * (0.27886807 + (t * (-1.13520398 + (t * (1.48851587 + (t * (-0.82215223 + (t * 0.17087277)))))))))))))))));
        var tail = t * Math.Exp((-z * z) + poly);
        return x >= 0 ? tail : 2 - tail;
    }
}
