using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>A dataset was asked for as the kind it is not: a tensor dataset read as a table, or the reverse.</summary>
internal sealed class DatasetKindException : Exception
{
    public DatasetKindException(string datasetId, InputKind kind)
        : base($"Dataset '{datasetId}' is a {Model.Serialization.WireNames.Of(kind)} dataset.")
    {
        DatasetId = datasetId;
        Kind = kind;
    }

    public DatasetKindException()
    {
    }

    public DatasetKindException(string message)
        : base(message)
    {
    }

    public DatasetKindException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public string DatasetId { get; } = "";

    /// <summary>The kind the dataset actually is.</summary>
    public InputKind Kind { get; }
}
