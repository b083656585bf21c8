namespace ModelService.Model.Data;

/// <summary>One raw input value for prediction: a number, a category label, or missing.</summary>
public readonly record struct FeatureValue
{
    private FeatureValue(double number, string? label, bool isMissing)
    {
        Number = number;
        Label = label;
        IsMissing = isMissing;
    }

    /// <summary>The missing value; imputed as in training.</summary>
    public static FeatureValue Missing { get; } = new(double.NaN, null, true);

    /// <summary>The numeric value (NaN unless this is a number).</summary>
    public double Number { get; }

    /// <summary>The category label (null unless this is a label).</summary>
    public string? Label { get; }

    /// <summary>True when no value was given.</summary>
    public bool IsMissing { get; }

    /// <summary>True when this holds a category label.</summary>
    public bool IsLabel => Label is not null;

    /// <summary>A numeric value.</summary>
    public static FeatureValue FromNumber(double value) => new(value, null, false);

    /// <summary>A category label.</summary>
    public static FeatureValue FromLabel(string label) => new(double.NaN, label ?? throw new ArgumentNullException(nameof(label)), false);
}
