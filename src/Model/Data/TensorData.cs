namespace ModelService.Model.Data;

/// <summary>
/// Image-like samples: inputs <c>x</c> of shape [Count, Height, Width, Channels] (channels last, C order, float32, NaN for a
/// missing value) and targets <c>y</c> of shape [Count] (one value per sample) or [Count, Height, Width] (one value per
/// position), float64, NaN where a sample has no target.
/// </summary>
public sealed class TensorData
{
    /// <summary>Wraps the arrays (not copied).</summary>
    /// <exception cref="ArgumentException">A dimension is not positive or an array's length disagrees with the shape.</exception>
    public TensorData(int count, int height, int width, int channels, float[] x, double[] y, bool perPositionTarget)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (count < 1 || height < 1 || width < 1 || channels < 1)
        {
            throw new ArgumentException($"The shape [{count}, {height}, {width}, {channels}] must be positive in every dimension.");
        }
        var sampleSize = (long)height * width * channels;
        if (x.LongLength != count * sampleSize)
        {
            throw new ArgumentException($"x holds {x.LongLength} values; [{count}, {height}, {width}, {channels}] needs {count * sampleSize}.");
        }
        var targets = perPositionTarget ? (long)count * height * width : count;
        if (y.LongLength != targets)
        {
            throw new ArgumentException($"y holds {y.LongLength} values; {targets} are needed.");
        }
        Count = count;
        Height = height;
        Width = width;
        Channels = channels;
        X = x;
        Y = y;
        PerPositionTarget = perPositionTarget;
    }

    /// <summary>Number of samples (N).</summary>
    public int Count { get; }

    /// <summary>Positions per column of a sample (H).</summary>
    public int Height { get; }

    /// <summary>Positions per row of a sample (W).</summary>
    public int Width { get; }

    /// <summary>Values per position (C).</summary>
    public int Channels { get; }

    /// <summary>[Count, Height, Width, Channels], channels last; NaN is a missing value.</summary>
    public float[] X { get; }

    /// <summary>[Count] or [Count, Height, Width]; NaN marks a sample without a target.</summary>
    public double[] Y { get; }

    /// <summary>True when <see cref="Y"/> has a value per position ([Count, Height, Width]).</summary>
    public bool PerPositionTarget { get; }

    /// <summary>Height x Width.</summary>
    public int Positions => Height * Width;

    /// <summary>Values of x per sample (Height x Width x Channels).</summary>
    public int SampleSize => Positions * Channels;

    /// <summary>Values of y per sample: Height x Width for a per-position target, else 1.</summary>
    public int TargetsPerSample => PerPositionTarget ? Positions : 1;

    /// <summary>The shape of one sample's input: [Height, Width, Channels].</summary>
    public IReadOnlyList<int> Shape => [Height, Width, Channels];

    /// <summary>The shape of one sample's target: [] for one value, [Height, Width] per position.</summary>
    public IReadOnlyList<int> TargetShape => PerPositionTarget ? [Height, Width] : [];
}
