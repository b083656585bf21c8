using System.Globalization;
using System.Text.Json;
using ModelService.Api.Infrastructure;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;

namespace ModelService.Api.Inference;

/// <summary>A request the protocol answers with <c>{"error": ...}</c> and <see cref="StatusCode"/>.</summary>
internal sealed class InferException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>A parsed inference request: raw feature values, <see cref="RowCount"/> rows in model feature order.</summary>
internal sealed record InferInput(string? Id, FeatureValue[] Values, int RowCount);

/// <summary>Reads an inference request body: <c>{id?, parameters?, inputs: [{name, shape, datatype, parameters?, data}],
/// outputs?: [{name, parameters?}]}</c> with one input tensor of shape [N, F], F the model's feature count.</summary>
internal static class InferRequestReader
{
    public const string InputName = "input0";
    public const string OutputName = "output0";

    public static InferInput Read(ReadOnlyMemory<byte> body, ModelManifest model, int maxRows)
    {
        JsonLimits.EnsureUtf8(body.Span);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw Bad($"The body is not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Bad("The body must be a JSON object with 'inputs'.");
            }
            string? id = null;
            JsonElement? input = null;
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "id":
                        id = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()
                            : throw Bad("'id' must be a string.");
                        break;
                    case "parameters":
                        RequireObject(property.Value, "parameters");
                        break;
                    case "inputs":
                        input = SingleInput(property.Value);
                        break;
                    case "outputs":
                        CheckOutputs(property.Value);
                        break;
                    default:
                        throw Bad($"Unknown field '{property.Name}'; an inference request has id, parameters, inputs and outputs.");
                }
            }
            if (input is null)
            {
                throw Bad("'inputs' is required.");
            }
            var (values, rows) = ReadTensor(input.Value, model, maxRows);
            return new InferInput(id, values, rows);
        }
    }

    private static JsonElement SingleInput(JsonElement inputs)
    {
        if (inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() != 1)
        {
            throw Bad($"'inputs' must be an array holding exactly one tensor named '{InputName}'.");
        }
        return inputs[0];
    }

    private static void CheckOutputs(JsonElement outputs)
    {
        if (outputs.ValueKind != JsonValueKind.Array)
        {
            throw Bad("'outputs' must be an array.");
        }
        foreach (var output in outputs.EnumerateArray())
        {
            RequireObject(output, "outputs[]");
            if (!output.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || name.GetString() != OutputName)
            {
                throw Bad($"Unknown output requested; this model has one output, '{OutputName}'.");
            }
        }
    }

    private static (FeatureValue[] Values, int Rows) ReadTensor(JsonElement tensor, ModelManifest model, int maxRows)
    {
        RequireObject(tensor, "inputs[0]");
        var name = tensor.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (name != InputName)
        {
            throw Bad($"Unknown input '{name}'; this model takes one input named '{InputName}'.");
        }
        var datatype = tensor.TryGetProperty("datatype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        var width = model.Features.Count;
        var categorical = model.Features.Where(f => f.Type == ColumnType.Categorical).Select(f => f.Name).ToList();
        switch (datatype)
        {
            case "FP32" or "FP64" when categorical.Count > 0:
                throw Bad($"This model has categorical features ({string.Join(", ", categorical)}); send a BYTES tensor "
                    + "of strings in feature order.");
            case "FP32" or "FP64" or "BYTES":
                break;
            default:
                throw Bad($"Unsupported datatype '{datatype}'; '{InputName}' takes FP32 or FP64 (BYTES for models with categorical features).");
        }
        var shape = ReadShape(tensor);
        if (shape.Count != 2 || shape[1] != width || shape[0] < 1)
        {
            throw Bad($"'{InputName}' must have shape [N, {width}] with N >= 1 (features: "
                + $"{string.Join(", ", model.Features.Select(f => f.Name))}); got [{string.Join(", ", shape)}].");
        }
        if (shape[0] > maxRows)
        {
            throw new InferException(StatusCodes.Status413PayloadTooLarge,
                $"{shape[0]} rows is more than the limit of {maxRows} (Predictions:MaxRows).");
        }
        var rows = (int)shape[0];
        if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw Bad($"'{InputName}' needs 'data': an array of {rows * width} values in row-major order.");
        }
        var values = new FeatureValue[rows * width];
        var count = 0;
        Flatten(data, values, ref count, datatype!, model);
        if (count != values.Length)
        {
            throw Bad($"'{InputName}' has shape [{rows}, {width}] so 'data' needs {values.Length} values; got {count}.");
        }
        return (values, rows);
    }

    private static List<long> ReadShape(JsonElement tensor)
    {
        if (!tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
        {
            throw Bad($"'{InputName}' needs 'shape', an array of integers.");
        }
        return [.. shape.EnumerateArray().Select(s => s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var v)
            ? v : throw Bad($"'{InputName}' shape must hold integers."))];
    }

    /// <summary>The protocol allows data flattened or nested as the shape; both read in row-major order.</summary>
    private static void Flatten(JsonElement data, FeatureValue[] values, ref int count, string datatype, ModelManifest model)
    {
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                Flatten(item, values, ref count, datatype, model);
                continue;
            }
            if (count == values.Length)
            {
                count++;
                return;
            }
            var feature = model.Features[count % model.Features.Count];
            values[count++] = datatype == "BYTES" ? FromString(item, feature.Name, feature.Type) : FromNumber(item, datatype);
        }
    }

    private static FeatureValue FromNumber(JsonElement item, string datatype)
    {
        if (item.ValueKind != JsonValueKind.Number)
        {
            throw Bad($"{datatype} data must hold numbers only; got {item.ValueKind.ToString().ToLowerInvariant()} {item.GetRawText()}.");
        }
        var value = datatype == "FP32" ? (float)item.GetDouble() : item.GetDouble();
        return double.IsFinite(value) ? FeatureValue.FromNumber(value) : throw Bad($"{item.GetRawText()} is out of {datatype} range.");
    }

    private static FeatureValue FromString(JsonElement item, string feature, ColumnType type)
    {
        if (item.ValueKind != JsonValueKind.String)
        {
            throw Bad($"BYTES data must hold strings only; got {item.GetRawText()} for '{feature}'.");
        }
        var text = item.GetString()!;
        if (type == ColumnType.Categorical)
        {
            return FeatureValue.FromLabel(text);
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? FeatureValue.FromNumber(number)
            : throw Bad($"'{text}' is not a number, and '{feature}' is a numeric feature.");
    }

    private static void RequireObject(JsonElement element, string field)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Bad($"'{field}' must be a JSON object.");
        }
    }

    private static InferException Bad(string message) => new(StatusCodes.Status400BadRequest, message);
}
