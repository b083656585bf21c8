using ModelService.Model.Data;

namespace ModelService.Model.Preprocessing;

/// <summary>Turns raw feature values into network inputs and maps the target to and from its standardised form.
/// Immutable and thread-safe.</summary>
public sealed class Preprocessor
{
    /// <summary>Creates a preprocessor from fitted transforms (e.g. read from a manifest).</summary>
    public Preprocessor(IReadOnlyList<FeatureTransform> features, TargetScaling target)
    {
        Features = features;
        Target = target;
        throw new NotImplementedException();
    }

    /// <summary>The feature transforms in model feature order.</summary>
    public IReadOnlyList<FeatureTransform> Features { get; }

    /// <summary>The target's standardisation.</summary>
    public TargetScaling Target { get; }

    /// <summary>Encoded inputs per row (sum of the feature widths).</summary>
    public int InputWidth { get; }

    /// <summary>Fits the transforms on <paramref name="trainRows"/> only.</summary>
    public static Preprocessor Fit(DataTable table, IReadOnlyList<int> trainRows, string target, IReadOnlyList<string> features) =>
        throw new NotImplementedException();

    /// <summary>Encodes <paramref name="rowCount"/> rows of raw values (row-major, model feature order) into
    /// <paramref name="dst"/> (rowCount x <see cref="InputWidth"/>, row-major). An unseen category encodes as all zeros.</summary>
    /// <exception cref="ArgumentException">A numeric feature was given a label, or the spans have the wrong length.</exception>
    public void Encode(ReadOnlySpan<FeatureValue> rows, int rowCount, Span<float> dst) => throw new NotImplementedException();

    /// <summary>Encodes the given rows of a table (which must hold every feature column) into <paramref name="dst"/>.</summary>
    public void EncodeTable(DataTable table, IReadOnlyList<int> rows, Span<float> dst) => throw new NotImplementedException();

    /// <summary>Target units -> standardised.</summary>
    public double ScaleTarget(double y) => throw new NotImplementedException();

    /// <summary>Standardised -> target units.</summary>
    public double UnscaleTarget(double z) => throw new NotImplementedException();
}
