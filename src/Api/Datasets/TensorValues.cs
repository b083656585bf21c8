using ModelService.Api.Errors;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>The checks every tensor upload shares, whatever its format: values are numbers or NaN (missing), never
/// infinite, as table cells are.</summary>
internal static class TensorValues
{
    public static TensorData Create(int count, int height, int width, int channels, float[] x, double[] y, bool perPosition)
    {
        var bad = Array.FindIndex(x, float.IsInfinity);
        if (bad >= 0)
        {
            var c = bad % channels;
            var position = bad / channels;
            throw ApiProblemException.Validation("x", $"x[{position / (height * width)}][{position / width % height}][{position % width}][{c}] "
                + "is infinite (or outside the float32 range); values must be finite numbers, NaN for a missing one.");
        }
        bad = Array.FindIndex(y, double.IsInfinity);
        if (bad >= 0)
        {
            var at = perPosition ? $"[{bad / (height * width)}][{bad / width % height}][{bad % width}]" : $"[{bad}]";
            throw ApiProblemException.Validation("y", $"y{at} is infinite; targets must be finite numbers, NaN for a sample without one.");
        }
        return new TensorData(count, height, width, channels, x, y, perPosition);
    }
}
