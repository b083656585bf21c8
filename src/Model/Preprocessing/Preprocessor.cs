using System.Globalization;
using System.Numerics;
using ModelService.Model.Data;

namespace ModelService.Model.Preprocessing;

/// <summary>Turns raw feature values into network inputs and maps the target to and from its standardised form.
/// Immutable and thread-safe.</summary>
public sealed class Preprocessor
{
    private readonly Encoder[] _encoders;
    private readonly NumericEncoder? _numbers;

    /// <summary>Creates a preprocessor from fitted transforms (e.g. read from a manifest).</summary>
    /// <exception cref="ArgumentException">A transform is incomplete or inconsistent.</exception>
    public Preprocessor(IReadOnlyList<FeatureTransform> features, TargetScaling target)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(target);
        if (features.Count == 0)
        {
            throw new ArgumentException("A model needs at least one feature.", nameof(features));
        }
        if (!double.IsFinite(target.Mean) || !double.IsFinite(target.Std) || target.Std <= 0)
        {
            throw new ArgumentException($"Target '{target.Name}' needs a finite mean and a positive standard deviation.", nameof(target));
        }
        if (features.Select(f => f.Name).Distinct(StringComparer.Ordinal).Count() != features.Count)
        {
            throw new ArgumentException("Feature names must be unique.", nameof(features));
        }
        Features = features;
        Target = target;
        _encoders = new Encoder[features.Count];
        var offset = 0;
        for (var i = 0; i < features.Count; i++)
        {
            _encoders[i] = new Encoder(features[i], offset);
            offset += features[i].Width;
        }
        if (offset == 0)
        {
            throw new ArgumentException("The features produce no network input.", nameof(features));
        }
        InputWidth = offset;
        IsNumeric = features.All(f => f.Type == ColumnType.Numeric);
        _numbers = IsNumeric ? new NumericEncoder(_encoders) : null;
    }

    /// <summary>The feature transforms in model feature order.</summary>
    public IReadOnlyList<FeatureTransform> Features { get; }

    /// <summary>The target's standardisation.</summary>
    public TargetScaling Target { get; }

    /// <summary>Encoded inputs per row (sum of the feature widths).</summary>
    public int InputWidth { get; }

    /// <summary>True when every feature is numeric, so that rows can be given as plain numbers (<see cref="EncodeNumbers"/>).</summary>
    public bool IsNumeric { get; }

    /// <summary>Fits the transforms on <paramref name="trainRows"/> only: numeric features get the median for missing values
    /// and are standardised (population standard deviation of the imputed values, 1 when it is 0); categorical features
    /// are one-hot over the categories seen, sorted ordinally, with the most frequent one for missing values.</summary>
    /// <exception cref="ArgumentException">A column is absent, the target is not numeric or is missing in a training row.</exception>
    public static Preprocessor Fit(DataTable table, IReadOnlyList<int> trainRows, string target, IReadOnlyList<string> features) =>
        PreprocessorFitting.Fit(table, trainRows, target, features);

    /// <summary>Fits per-channel standardisation on the tensor samples <paramref name="trainSamples"/>: one numeric feature
    /// per channel (mean and population standard deviation over every position; a missing value takes the channel's mean)
    /// and the target standardised over all its training values.</summary>
    /// <exception cref="ArgumentException">No training sample, a training sample without a target, or values too large to
    /// standardise.</exception>
    public static Preprocessor FitChannels(TensorData data, IReadOnlyList<int> trainSamples) =>
        PreprocessorFitting.FitChannels(data, trainSamples);

    /// <summary>Encodes <paramref name="rowCount"/> rows of raw values (row-major, model feature order) into
    /// <paramref name="dst"/> (rowCount x <see cref="InputWidth"/>, row-major). An unseen category encodes as all zeros.</summary>
    /// <exception cref="ArgumentException">A numeric feature was given a label, or the spans have the wrong length.</exception>
    public void Encode(ReadOnlySpan<FeatureValue> rows, int rowCount, Span<float> dst)
    {
        CheckLengths(rows.Length, rowCount, dst.Length);
        for (var r = 0; r < rowCount; r++)
        {
            var values = rows.Slice(r * _encoders.Length, _encoders.Length);
            var output = dst.Slice(r * InputWidth, InputWidth);
            for (var f = 0; f < _encoders.Length; f++)
            {
                _encoders[f].Encode(values[f], output);
            }
        }
    }

    /// <summary>Encodes <paramref name="rowCount"/> rows of plain numbers (row-major, model feature order, NaN for missing)
    /// of a model whose features are all numeric, exactly as <see cref="Encode"/> encodes the same numbers.</summary>
    /// <exception cref="ArgumentException">The model has a categorical feature, or the spans have the wrong length.</exception>
    public void EncodeNumbers<T>(ReadOnlySpan<T> rows, int rowCount, Span<float> dst)
        where T : INumberBase<T>
    {
        if (!IsNumeric)
        {
            throw new ArgumentException("The model has categorical features; its rows cannot be plain numbers.", nameof(rows));
        }
        CheckLengths(rows.Length, rowCount, dst.Length);
        _numbers!.Encode(rows, dst);
    }

    /// <summary>Encodes the given rows of a table (which must hold every feature column) into <paramref name="dst"/>.</summary>
    /// <exception cref="ArgumentException">A feature column is absent or holds labels for a numeric feature.</exception>
    public void EncodeTable(DataTable table, IReadOnlyList<int> rows, Span<float> dst)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rows);
        if (dst.Length != rows.Count * InputWidth)
        {
            throw new ArgumentException($"Expected room for {rows.Count} x {InputWidth} inputs, got {dst.Length}.", nameof(dst));
        }
        foreach (var encoder in _encoders)
        {
            if (!table.Contains(encoder.Name))
            {
                throw new ArgumentException($"The table has no column '{encoder.Name}'.", nameof(table));
            }
            var column = table[encoder.Name];
            for (var r = 0; r < rows.Count; r++)
            {
                var row = rows[r];
                var value = column.IsMissing(row) ? FeatureValue.Missing
                    : column.Numbers is { } numbers ? FeatureValue.FromNumber(numbers[row])
                    : FeatureValue.FromLabel(column.Labels![row]!);
                encoder.Encode(value, dst.Slice(r * InputWidth, InputWidth));
            }
        }
    }

    /// <summary>Checks the lengths of an encode call's <paramref name="rows"/> and <paramref name="dst"/> spans.</summary>
    private void CheckLengths(int rows, int rowCount, int dst)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        if (rows != rowCount * _encoders.Length)
        {
            throw new ArgumentException($"Expected {rowCount} x {_encoders.Length} values, got {rows}.", nameof(rows));
        }
        if (dst != rowCount * InputWidth)
        {
            throw new ArgumentException($"Expected room for {rowCount} x {InputWidth} inputs, got {dst}.", nameof(dst));
        }
    }

    /// <summary>Target units -> standardised.</summary>
    public double ScaleTarget(double y) => (y - Target.Mean) / Target.Std;

    /// <summary>Standardised -> target units.</summary>
    public double UnscaleTarget(double z) => (z * Target.Std) + Target.Mean;

    internal sealed class Encoder
    {
        private readonly int _offset;
        private readonly bool _numeric;
        private readonly float _imputed;
        private readonly double _mean;
        private readonly double _std;
        private readonly int _width;
        private readonly Dictionary<string, int>? _categories;
        private readonly int _imputedCategory = -1;

        public Encoder(FeatureTransform transform, int offset)
        {
            ArgumentNullException.ThrowIfNull(transform);
            Name = transform.Name;
            _offset = offset;
            _width = transform.Width;
            _numeric = transform.Type == ColumnType.Numeric;
            if (_numeric)
            {
                if (transform.ImputeValue is not { } impute || transform.Mean is not { } mean || transform.Std is not { } std
                    || !double.IsFinite(impute) || !double.IsFinite(mean) || !double.IsFinite(std) || std <= 0)
                {
                    throw new ArgumentException($"Numeric feature '{Name}' needs a finite impute value, mean and positive standard deviation.");
                }
                _mean = mean;
                _std = std;
                _imputed = (float)((impute - mean) / std);
                return;
            }
            var categories = transform.Categories
                ?? throw new ArgumentException($"Categorical feature '{Name}' has no category list.");
            _categories = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < categories.Count; i++)
            {
                if (categories[i] is null || !_categories.TryAdd(categories[i], i))
                {
                    throw new ArgumentException($"Categorical feature '{Name}' lists a category twice or a null category.");
                }
            }
            if (transform.ImputeCategory is { } mode && !_categories.TryGetValue(mode, out _imputedCategory))
            {
                throw new ArgumentException($"Categorical feature '{Name}' imputes '{mode}', which is not one of its categories.");
            }
        }

        public string Name { get; }

        public void Encode(FeatureValue value, Span<float> row)
        {
            if (_numeric)
            {
                if (value.IsLabel)
                {
                    throw new ArgumentException($"Feature '{Name}' is numeric but was given the label '{value.Label}'.");
                }
                EncodeNumber(value.Number, row);
                return;
            }
            var slots = row.Slice(_offset, _width);
            slots.Clear();
            var index = value.IsMissing ? _imputedCategory : Lookup(value);
            if (index >= 0)
            {
                slots[index] = 1f;
            }
        }

        /// <summary>A numeric feature's value (NaN when missing: a missing value's number is NaN).</summary>
        public void EncodeNumber(double value, Span<float> row) => row[_offset] = Standardise(value);

        public double Mean => _mean;

        public double Std => _std;

        public float Imputed => _imputed;

        private float Standardise(double value) => double.IsNaN(value) ? _imputed : (float)((value - _mean) / _std);

        private int Lookup(FeatureValue value)
        {
            var label = value.Label ?? value.Number.ToString(CultureInfo.InvariantCulture);
            return _categories!.TryGetValue(label, out var index) ? index : -1;
        }
    }
}
