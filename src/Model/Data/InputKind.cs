using System.Text.Json.Serialization;
using ModelService.Model.Serialization;

namespace ModelService.Model.Data;

/// <summary>What a model takes as input; its wire names (HTTP API and manifest) are the
/// <see cref="JsonStringEnumMemberNameAttribute"/> values.</summary>
[JsonConverter(typeof(WireEnumConverter<InputKind>))]
public enum InputKind
{
    /// <summary>Table rows: one value per feature column (the network sees [1, 1, encoded features]).</summary>
    [JsonStringEnumMemberName("table")]
    Table,

    /// <summary>Image-like samples [Height, Width, Channels] (<see cref="TensorData"/>), standardised per channel.</summary>
    [JsonStringEnumMemberName("tensor")]
    Tensor,
}
