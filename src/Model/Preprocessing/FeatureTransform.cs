using ModelService.Model.Data;

namespace ModelService.Model.Preprocessing;

/// <summary>How one raw feature becomes network inputs, as fitted on the training rows.</summary>
/// <param name="Name">Feature (column) name.</param>
/// <param name="Type">Numeric or categorical.</param>
/// <param name="ImputeValue">Numeric: the training median that replaces a missing value.</param>
/// <param name="Mean">Numeric: the training mean subtracted after imputation.</param>
/// <param name="Std">Numeric: the training standard deviation divided by (1 when it was 0).</param>
/// <param name="Categories">Categorical: the categories seen in training, sorted ordinally; one input each.</param>
/// <param name="ImputeCategory">Categorical: the training mode that replaces a missing value.</param>
public sealed record FeatureTransform(
    string Name,
    ColumnType Type,
    double? ImputeValue,
    double? Mean,
    double? Std,
    IReadOnlyList<string>? Categories,
    string? ImputeCategory)
{
    /// <summary>Number of network inputs this feature produces: 1, or the category count.</summary>
    public int Width => Type == ColumnType.Numeric ? 1 : Categories?.Count ?? 0;
}

/// <summary>Standardisation of the target: the network predicts (y - Mean) / Std.</summary>
/// <param name="Name">Target column name.</param>
/// <param name="Mean">Training mean of the target.</param>
/// <param name="Std">Training standard deviation of the target (1 when it was 0).</param>
public sealed record TargetScaling(string Name, double Mean, double Std);
