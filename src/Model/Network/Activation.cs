using System.Text.Json.Serialization;
using ModelService.Model.Serialization;

namespace ModelService.Model.Network;

/// <summary>The non-linearity applied after each hidden 1x1 convolution; its wire names (HTTP API and manifest) are the
/// <see cref="JsonStringEnumMemberNameAttribute"/> values.</summary>
[JsonConverter(typeof(WireEnumConverter<Activation>))]
public enum Activation
{
    /// <summary>max(0, x).</summary>
    [JsonStringEnumMemberName("relu")]
    Relu,

    /// <summary>x for x &gt;= 0, otherwise 0.01 x.</summary>
    [JsonStringEnumMemberName("leaky_relu")]
    LeakyRelu,

    /// <summary>Exact (erf-based) Gaussian error linear unit.</summary>
    [JsonStringEnumMemberName("gelu")]
    Gelu,

    /// <summary>Hyperbolic tangent.</summary>
    [JsonStringEnumMemberName("tanh")]
    Tanh,

    /// <summary>Logistic sigmoid.</summary>
    [JsonStringEnumMemberName("sigmoid")]
    Sigmoid,
}
