using System.Text.Json.Serialization;

namespace ModelService.Model.Network;

/// <summary>The non-linearity applied after each hidden 1x1 convolution.</summary>
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

/// <summary>The wire names of <see cref="Activation"/> used by the HTTP API and the model manifest.</summary>
public static class ActivationNames
{
    private static readonly (Activation Value, string Name)[] s_names =
    [
        (Activation.Relu, "relu"),
        (Activation.LeakyRelu, "leaky_relu"),
        (Activation.Gelu, "gelu"),
        (Activation.Tanh, "tanh"),
        (Activation.Sigmoid, "sigmoid"),
    ];

    /// <summary>Every wire name, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = Array.AsReadOnly(s_names.Select(n => n.Name).ToArray());

    /// <summary>The wire name of <paramref name="activation"/>, e.g. "leaky_relu".</summary>
    public static string ToWireName(Activation activation) =>
        s_names.FirstOrDefault(n => n.Value == activation).Name
        ?? throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");

    /// <summary>Parses a wire name (exact, lower case).</summary>
    public static bool TryParse(string? name, out Activation activation)
    {
        foreach (var (value, wire) in s_names)
        {
            if (string.Equals(wire, name, StringComparison.Ordinal))
            {
                activation = value;
                return true;
            }
        }
        activation = default;
        return false;
    }
}
