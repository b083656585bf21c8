using ModelService.Model.Data;

namespace ModelService.Model.Tests;

/// <summary>Generated image-like data sets for the tensor tests.</summary>
internal static class TensorTestData
{
    /// <summary><paramref name="count"/> samples of [height, width, 3] with every channel ~ U(-1, 1) and a target at every
    /// position of y = 3·band0 - 2·band1 + noise (band 2 is a distraction), the noise ~ U(-noise, noise).</summary>
    public static TensorData Bands(int count, int height, int width, int seed, double noise = 0.05)
    {
        var random = new Random(seed);
        var x = new float[count * height * width * 3];
        var y = new double[count * height * width];
        for (var p = 0; p < y.Length; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                x[(p * 3) + c] = (float)((random.NextDouble() * 2) - 1);
            }
            y[p] = (3.0 * x[p * 3]) - (2.0 * x[(p * 3) + 1]) + (noise * ((random.NextDouble() * 2) - 1));
        }
        return new TensorData(count, height, width, 3, x, y, perPositionTarget: true);
    }

    /// <summary><paramref name="count"/> samples of [size, size, 1]: faint noise with one bright pixel at a random place,
    /// and one target per sample, the bright pixel's column (0 at the left). Only a head that knows where each position
    /// is can predict it: every position looks alike to a per-position transform.</summary>
    public static TensorData BrightPixelColumn(int count, int size, int seed)
    {
        var random = new Random(seed);
        var positions = size * size;
        var x = new float[count * positions];
        var y = new double[count];
        for (var n = 0; n < count; n++)
        {
            for (var p = 0; p < positions; p++)
            {
                x[(n * positions) + p] = (float)(random.NextDouble() * 0.1);
            }
            var bright = random.Next(positions);
            x[(n * positions) + bright] = 1f;
            y[n] = bright % size;
        }
        return new TensorData(count, size, size, 1, x, y, perPositionTarget: false);
    }

    /// <summary>Values of <paramref name="count"/> samples of [height, width, channels] ~ U(-3, 3).</summary>
    public static float[] Uniform(int count, int height, int width, int channels, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count * height * width * channels).Select(_ => (float)((random.NextDouble() * 6) - 3)).ToArray();
    }

    /// <summary>Root mean squared difference.</summary>
    public static double Rmse(IReadOnlyList<double> predictions, IReadOnlyList<double> targets) =>
        Math.Sqrt(predictions.Select((p, i) => (p - targets[i]) * (p - targets[i])).Average());
}
