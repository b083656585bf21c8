using System.Text.Json;
using ModelService.Api.Errors;
using ModelService.Api.Json;
using ModelService.Api.Limits;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>Reads the JSON form of a tensor dataset, <c>{"name": "...", "x": [[[[...]]]], "y": [...]}</c>: x nested
/// [N, H, W, C], y nested [N] or [N, H, W], numbers with null for a missing value. Two passes, as the table readers make:
/// the first checks the nesting (regular, numbers only) and finds the shapes, counting values against
/// Limits:MaxTensorElements; the second fills arrays of exactly that size.</summary>
internal static class TensorJsonParser
{
    private const string Holds = "'x' and 'y'";
    private const string Expected = "'name', 'x' and 'y'";

    /// <summary>Whether a JSON upload is the tensor form: its top-level object has an "x" or "y" property (the table form
    /// has "columns" and "rows"). Malformed JSON is left to the table reader to report.</summary>
    public static bool IsTensorForm(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, JsonLimits.ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("x"u8) || reader.ValueTextEquals("y"u8))
                {
                    return true;
                }
                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return false;
    }

    public static (string? Name, TensorData Data) Parse(ReadOnlySpan<byte> body, LimitsOptions limits)
    {
        JsonLimits.EnsureUtf8(body);
        var x = new NestedNumbers("x", [4], "[N, H, W, C]", limits.MaxTensorElements, "Limits:MaxTensorElements");
        var y = new NestedNumbers("y", [1, 3], "[N] or [N, H, W]", limits.MaxTensorElements, "Limits:MaxTensorElements");
        var name = Read(body, x, y);
        var xShape = x.Shape() ?? throw ApiProblemException.Validation("x", "'x' is required: nested arrays [N, H, W, C].");
        var yShape = y.Shape() ?? throw ApiProblemException.Validation("y", "'y' is required: nested arrays [N] or [N, H, W].");
        var perPosition = yShape.Length == 3;
        if (yShape[0] != xShape[0] || (perPosition && (yShape[1] != xShape[1] || yShape[2] != xShape[2])))
        {
            throw ApiProblemException.Validation("y", $"'y' has shape [{string.Join(", ", yShape)}]; with 'x' of shape "
                + $"[{string.Join(", ", xShape)}] it must be [{xShape[0]}] (a value per sample) or [{xShape[0]}, {xShape[1]}, {xShape[2]}] "
                + "(a value per position).");
        }
        var xValues = new float[x.Count];
        var yValues = new double[y.Count];
        Read(body, x.Filling(xValues), y.Filling(yValues));
        return (name, TensorValues.Create(xShape[0], xShape[1], xShape[2], xShape[3], xValues, yValues, perPosition));
    }

    private static string? Read(ReadOnlySpan<byte> body, NestedNumbers x, NestedNumbers y)
    {
        var envelope = new JsonEnvelope(body, JsonLimits.ReaderOptions, Holds, Expected);
        string? name = null;
        while (envelope.NextProperty(out var property))
        {
            switch (property)
            {
                case "name":
                    name = envelope.OptionalString("name");
                    break;
                case "x":
                    x.Read(ref envelope.Reader);
                    break;
                case "y":
                    y.Read(ref envelope.Reader);
                    break;
                default:
                    throw envelope.Unknown(property);
            }
        }
        envelope.End();
        return name;
    }
}
