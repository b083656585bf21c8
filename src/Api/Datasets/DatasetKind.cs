using System.Text.Json.Serialization;
using ModelService.Model.Serialization;

namespace ModelService.Api.Datasets;

/// <summary>What a dataset holds; its wire names are the <see cref="JsonStringEnumMemberNameAttribute"/> values.</summary>
[JsonConverter(typeof(WireEnumConverter<DatasetKind>))]
internal enum DatasetKind
{
    /// <summary>Named columns, numeric or categorical (CSV or the JSON table form).</summary>
    [JsonStringEnumMemberName("table")]
    Table,

    /// <summary>Samples of shape [H, W, C] with a target per sample or per position (.npz or the JSON tensor form).</summary>
    [JsonStringEnumMemberName("tensor")]
    Tensor,
}

/// <summary>A dataset was asked for as the kind it is not: a tensor dataset read as a table, or the reverse.</summary>
internal sealed class DatasetKindException : Exception
{
    public DatasetKindException(string datasetId, DatasetKind kind)
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
    public DatasetKind Kind { get; }
}
