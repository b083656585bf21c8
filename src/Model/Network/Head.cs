using System.Text.Json.Serialization;
using ModelService.Model.Serialization;

namespace ModelService.Model.Network;

/// <summary>What follows the last hidden 1x1 convolution; its wire names (HTTP API and manifest) are the
/// <see cref="JsonStringEnumMemberNameAttribute"/> values.</summary>
[JsonConverter(typeof(WireEnumConverter<Head>))]
public enum Head
{
    /// <summary>Flatten (H, W, C order) then one dense output: one prediction per sample. Its weights grow with H x W.</summary>
    [JsonStringEnumMemberName("flatten-dense")]
    FlattenDense,

    /// <summary>A last 1x1 convolution to one channel: one prediction per position, with weights shared by every position
    /// (so a model trained on one H x W scores any other).</summary>
    [JsonStringEnumMemberName("per-position")]
    PerPosition,
}
