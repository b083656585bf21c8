using System.Numerics.Tensors;
using ModelService.Model.Data;

namespace ModelService.Model.Preprocessing;

/// <summary>Computes the statistics of a <see cref="Preprocessor"/> from training rows.</summary>
internal static class PreprocessorFitting
{
    /// <summary>The target's name in a tensor model (the array it comes from).</summary>
    public const string TensorTarget = "y";

    /// <summary>The feature name of channel <paramref name="channel"/> in a tensor model.</summary>
    public static string ChannelName(int channel) => $"channel_{channel}";

    public static Preprocessor Fit(DataTable table, IReadOnlyList<int> trainRows, string target, IReadOnlyList<string> features)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(trainRows);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(features);
        if (trainRows.Count == 0)
        {
            throw new ArgumentException("Preprocessing needs at least one training row.", nameof(trainRows));
        }
        if (!table.Contains(target))
        {
            throw new ArgumentException($"The table has no target column '{target}'.", nameof(target));
        }
        var targetColumn = table[target];
        if (targetColumn.Numbers is not { } targetValues)
        {
            throw new ArgumentException($"The target column '{target}' must be numeric.", nameof(target));
        }
        var y = new double[trainRows.Count];
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = targetValues[trainRows[i]];
            if (double.IsNaN(y[i]))
            {
                throw new ArgumentException($"The target '{target}' is missing in training row {trainRows[i]}.", nameof(trainRows));
            }
        }
        var (targetMean, targetStd) = MeanAndStd(y);

        var transforms = new FeatureTransform[features.Count];
        for (var f = 0; f < features.Count; f++)
        {
            var name = features[f];
            if (name == target)
            {
                throw new ArgumentException($"The target '{target}' cannot also be a feature.", nameof(features));
            }
            if (!table.Contains(name))
            {
                throw new ArgumentException($"The table has no feature column '{name}'.", nameof(features));
            }
            var column = table[name];
            transforms[f] = column.Numbers is { } numbers ? FitNumeric(name, numbers, trainRows) : FitCategorical(name, column.Labels!, trainRows);
        }
        return new Preprocessor(transforms, new TargetScaling(target, targetMean, targetStd));
    }

    /// <summary>Per-channel standardisation of tensor samples fitted on <paramref name="trainSamples"/>: each channel's mean
    /// and population standard deviation over every position of those samples, a missing (NaN) value taking the channel's
    /// mean (so it standardises to 0 and adds nothing to the deviation); the target standardised over all its training
    /// values. The features are the channels, named by <see cref="ChannelName"/>; the target is named "y".</summary>
    public static Preprocessor FitChannels(TensorData data, IReadOnlyList<int> trainSamples)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(trainSamples);
        if (trainSamples.Count == 0)
        {
            throw new ArgumentException("Preprocessing needs at least one training sample.", nameof(trainSamples));
        }
        var channels = data.Channels;
        var sums = new double[channels];
        var observed = new long[channels];
        foreach (var sample in trainSamples)
        {
            var x = data.X.AsSpan(sample * data.SampleSize, data.SampleSize);
            for (var p = 0; p < x.Length; p += channels)
            {
                for (var c = 0; c < channels; c++)
                {
                    if (!float.IsNaN(x[p + c]))
                    {
                        sums[c] += x[p + c];
                        observed[c]++;
                    }
                }
            }
        }
        var means = sums.Select((sum, c) => observed[c] == 0 ? 0 : sum / observed[c]).ToArray();
        var squares = new double[channels];
        foreach (var sample in trainSamples)
        {
            var x = data.X.AsSpan(sample * data.SampleSize, data.SampleSize);
            for (var p = 0; p < x.Length; p += channels)
            {
                for (var c = 0; c < channels; c++)
                {
                    if (!float.IsNaN(x[p + c]))
                    {
                        var deviation = x[p + c] - means[c];
                        squares[c] += deviation * deviation;
                    }
                }
            }
        }
        var values = (double)trainSamples.Count * data.Positions;
        var transforms = new FeatureTransform[channels];
        for (var c = 0; c < channels; c++)
        {
            var (mean, std) = Standardisation(means[c], squares[c] / values);
            transforms[c] = new FeatureTransform(ChannelName(c), ColumnType.Numeric, mean, mean, std, null, null);
        }

        var per = data.TargetsPerSample;
        var y = new double[trainSamples.Count * per];
        for (var i = 0; i < trainSamples.Count; i++)
        {
            data.Y.AsSpan(trainSamples[i] * per, per).CopyTo(y.AsSpan(i * per, per));
        }
        if (TensorPrimitives.IsNaNAny<double>(y))
        {
            throw new ArgumentException("A training sample has no target.", nameof(trainSamples));
        }
        var (targetMean, targetStd) = MeanAndStd(y);
        return new Preprocessor(transforms, new TargetScaling(TensorTarget, targetMean, targetStd));
    }

    private static FeatureTransform FitNumeric(string name, double[] numbers, IReadOnlyList<int> rows)
    {
        var observed = rows.Select(r => numbers[r]).Where(v => !double.IsNaN(v)).ToArray();
        var median = Median(observed);
        var imputed = rows.Select(r => double.IsNaN(numbers[r]) ? median : numbers[r]).ToArray();
        var (mean, std) = MeanAndStd(imputed);
        return new FeatureTransform(name, ColumnType.Numeric, median, mean, std, null, null);
    }

    private static FeatureTransform FitCategorical(string name, string?[] labels, IReadOnlyList<int> rows)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (labels[row] is { } label)
            {
                counts[label] = counts.GetValueOrDefault(label) + 1;
            }
        }
        var categories = counts.Keys.Order(StringComparer.Ordinal).ToArray();
        // Ties go to the first category in sorted order so the fit does not depend on row order.
        var mode = categories.Length == 0 ? null : categories.MaxBy(c => counts[c]);
        return new FeatureTransform(name, ColumnType.Categorical, null, null, null, categories, mode);
    }

    private static double Median(double[] values)
    {
        if (values.Length == 0)
        {
            return 0;
        }
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static (double Mean, double Std) MeanAndStd(double[] values)
    {
        var mean = values.Average();
        return Standardisation(mean, values.Sum(v => (v - mean) * (v - mean)) / values.Length);
    }

    private static (double Mean, double Std) Standardisation(double mean, double variance)
    {
        var std = Math.Sqrt(variance);
        if (!double.IsFinite(mean) || !double.IsFinite(std))
        {
            throw new ArgumentException("Values are too large to standardise.");
        }
        // A constant column can leave rounding noise instead of an exact zero; it must not turn into a huge scale factor.
        var constant = std == 0 || std <= Math.Abs(mean) * 1e-12;
        return (mean, constant ? 1 : std);
    }
}
