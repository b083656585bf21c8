using ModelService.Model.Data;

namespace ModelService.Model.Preprocessing;

/// <summary>Computes the statistics of a <see cref="Preprocessor"/> from training rows.</summary>
internal static class PreprocessorFitting
{
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
        var variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
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
