using System.Text.Json;
using ModelService.Api.Json;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;

namespace ModelService.Api.Inference;

/// <summary>A parsed inference request: its id, the model it names (if any), whether the output goes back as binary
/// data, and the input tensor.</summary>
internal sealed record InferRequest(string? Id, string? ModelName, string? ModelVersion, bool BinaryOutput, InputTensor Input)
    : IDisposable
{
    public void Dispose() => Input.Dispose();
}

/// <summary>Reads a REST inference request: the JSON <c>{id?, model_name?, model_version?, parameters?, inputs: [{name, shape,
/// datatype, parameters?, data?}], outputs?: [{name, parameters?}]}</c>, followed, with the binary tensor data extension,
/// by the input's raw bytes (<c>parameters.binary_data_size</c> of them, the JSON being the first
/// <c>Inference-Header-Content-Length</c> bytes of the body). Binary values are read straight from the body.</summary>
internal static class InferRequestReader
{
    public static InferRequest Read(ReadOnlyMemory<byte> body, int? headerLength, ModelManifest model, int maxRows)
    {
        if (headerLength is { } length && (length < 0 || length > body.Length))
        {
            throw InferErrors.Bad($"Inference-Header-Content-Length is {length}, but the body has {body.Length} bytes.");
        }
        var header = body[..(headerLength ?? body.Length)];
        var binary = body[(headerLength ?? body.Length)..];
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw InferErrors.Bad($"The body is not valid JSON: {e.Message}"
                + (headerLength is null ? " (binary tensor data needs the Inference-Header-Content-Length header)" : ""));
        }
        using (document)
        {
            // The parser accepts escapes of lone surrogates ("\ud800") that no string can hold.
            JsonLimits.EnsureUtf8(header.Span);
            var root = document.RootElement;
            RequireObject(root, "body");
            string? id = null, modelName = null, modelVersion = null;
            JsonElement? input = null;
            bool? binaryOutputs = null, binaryOutput = null;
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "id":
                        id = String(property.Value, "id");
                        break;
                    case "model_name":
                        modelName = String(property.Value, "model_name");
                        break;
                    case "model_version":
                        modelVersion = String(property.Value, "model_version");
                        break;
                    case "parameters":
                        RequireObject(property.Value, "parameters");
                        binaryOutputs = Flag(property.Value, "binary_data_output", "parameters");
                        break;
                    case "inputs":
                        input = SingleInput(property.Value);
                        break;
                    case "outputs":
                        binaryOutput = CheckOutputs(property.Value);
                        break;
                    default:
                        throw InferErrors.Bad($"Unknown field '{property.Name}'; an inference request has id, model_name, "
                            + "model_version, parameters, inputs and outputs.");
                }
            }
            var tensor = ReadInput(input ?? throw InferErrors.Bad("'inputs' is required."), binary, headerLength is not null,
                model, maxRows, body.Length);
            // An output's own binary_data wins over the request's binary_data_output (Triton's rule).
            return new InferRequest(id, modelName, modelVersion, binaryOutput ?? binaryOutputs ?? false, tensor);
        }
    }

    private static JsonElement SingleInput(JsonElement inputs)
    {
        if (inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() != 1)
        {
            throw InferErrors.Bad($"'inputs' must be an array holding exactly one tensor named '{InferTensors.InputName}'.");
        }
        return inputs[0];
    }

    /// <summary>Checks the requested outputs; returns the binary_data flag of <c>output0</c> when it has one.</summary>
    private static bool? CheckOutputs(JsonElement outputs)
    {
        if (outputs.ValueKind != JsonValueKind.Array)
        {
            throw InferErrors.Bad("'outputs' must be an array.");
        }
        bool? binary = null;
        foreach (var output in outputs.EnumerateArray())
        {
            RequireObject(output, "outputs[]");
            if (!output.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || name.GetString() != InferTensors.OutputName)
            {
                throw InferErrors.Bad($"Unknown output requested; this model has one output, '{InferTensors.OutputName}'.");
            }
            if (output.TryGetProperty("parameters", out var parameters))
            {
                RequireObject(parameters, "outputs[0].parameters");
                RefuseSharedMemory(parameters, "outputs[0]");
                binary = Flag(parameters, "binary_data", "outputs[0].parameters");
            }
        }
        return binary;
    }

    private static InputTensor ReadInput(JsonElement tensor, ReadOnlyMemory<byte> binary, bool hasHeaderLength, ModelManifest model,
        int maxRows, int bodyBytes)
    {
        RequireObject(tensor, "inputs[0]");
        var name = tensor.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        var datatype = tensor.TryGetProperty("datatype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        // A tensor's values take at least a byte each, in the JSON data or the binary part: the body bounds their count.
        TensorLayout? layout = model.TakesTensors
            ? InferTensors.CheckTensorInput(name, datatype, ReadShape(tensor), model, maxRows, bodyBytes)
            : null;
        var rows = layout?.Count ?? InferTensors.CheckInput(name, datatype, ReadShape(tensor), model, maxRows);
        long? binarySize = null;
        if (tensor.TryGetProperty("parameters", out var parameters))
        {
            RequireObject(parameters, "inputs[0].parameters");
            RefuseSharedMemory(parameters, "inputs[0]");
            if (parameters.TryGetProperty("binary_data_size", out var size))
            {
                binarySize = size.ValueKind == JsonValueKind.Number && size.TryGetInt64(out var s) && s >= 0 ? s
                    : throw InferErrors.Bad("'inputs[0].parameters.binary_data_size' must be a non-negative integer.");
            }
        }
        var hasData = tensor.TryGetProperty("data", out var data);
        if (binarySize is { } expected)
        {
            if (hasData)
            {
                throw InferErrors.Bad($"'{InferTensors.InputName}' has both 'data' and 'parameters.binary_data_size'; send one.");
            }
            if (!hasHeaderLength)
            {
                throw InferErrors.Bad($"'{InferTensors.InputName}' has binary_data_size but the request has no "
                    + "Inference-Header-Content-Length header saying where the JSON ends.");
            }
            if (expected != binary.Length)
            {
                throw InferErrors.Bad($"'{InferTensors.InputName}' has binary_data_size {expected}, but {binary.Length} bytes "
                    + "follow the JSON header.");
            }
            return layout is { } rawLayout ? InferTensors.FromRawTensor(binary, datatype!, rawLayout)
                : InferTensors.FromRaw(binary, datatype!, rows, model);
        }
        if (binary.Length > 0)
        {
            throw InferErrors.Bad($"{binary.Length} bytes follow the JSON header, but no input has 'parameters.binary_data_size'.");
        }
        if (!hasData || data.ValueKind != JsonValueKind.Array)
        {
            throw InferErrors.Bad($"'{InferTensors.InputName}' needs 'data': an array of "
                + $"{(long)rows * (layout?.SampleSize ?? model.Features.Count)} values in row-major order (or binary data with "
                + "'parameters.binary_data_size').");
        }
        if (layout is { } jsonLayout)
        {
            return ReadTensorData(data, datatype!, jsonLayout);
        }
        var result = new InputTensor(rows, model.Features.Count);
        try
        {
            var count = 0;
            Flatten(data, result.Values, ref count, datatype!, model);
            if (count != result.Length)
            {
                throw InferErrors.Bad($"'{InferTensors.InputName}' has shape [{rows}, {model.Features.Count}] so 'data' needs "
                    + $"{result.Length} values; got {count}.");
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static InputTensor ReadTensorData(JsonElement data, string datatype, TensorLayout layout)
    {
        var result = InputTensor.ForTensor(layout);
        try
        {
            var count = 0;
            FlattenNumbers(data, result.Floats, ref count, datatype);
            if (count != result.Length)
            {
                throw InferErrors.Bad($"'{InferTensors.InputName}' has shape [{layout.Count}, {layout.Height}, {layout.Width}, "
                    + $"{layout.Channels}] so 'data' needs {result.Length} values; got {count}.");
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="Flatten"/>, into float32 values for a tensor model.</summary>
    private static void FlattenNumbers(JsonElement data, Span<float> values, ref int count, string datatype)
    {
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                FlattenNumbers(item, values, ref count, datatype);
                continue;
            }
            if (count == values.Length)
            {
                count++;
                return;
            }
            var index = count++;
            var number = FromNumber(item, index, datatype).Number;
            values[index] = InferTensors.FiniteFloat(number, index, datatype);
        }
    }

    private static List<long> ReadShape(JsonElement tensor)
    {
        if (!tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
        {
            throw InferErrors.Bad($"'{InferTensors.InputName}' needs 'shape', an array of integers.");
        }
        return [.. shape.EnumerateArray().Select(s => s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var v)
            ? v : throw InferErrors.Bad($"'{InferTensors.InputName}' shape must hold integers."))];
    }

    /// <summary>The protocol allows data flattened or nested as the shape; both read in row-major order.</summary>
    private static void Flatten(JsonElement data, Span<FeatureValue> values, ref int count, string datatype, ModelManifest model)
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
            var index = count++;
            values[index] = datatype == "BYTES"
                ? FromString(item, FeatureTransformInfo.Of(model, index % model.Features.Count))
                : FromNumber(item, index, datatype);
        }
    }

    private static FeatureValue FromNumber(JsonElement item, int index, string datatype)
    {
        if (item.ValueKind != JsonValueKind.Number)
        {
            throw InferErrors.Bad($"{datatype} data must hold numbers only; got {item.ValueKind.ToString().ToLowerInvariant()} "
                + $"{item.GetRawText()}.");
        }
        var value = item.GetDouble();
        return InferTensors.Finite(datatype == "FP32" ? (float)value : value, index, datatype);
    }

    private static FeatureValue FromString(JsonElement item, FeatureTransformInfo feature) =>
        item.ValueKind == JsonValueKind.String
            ? InferTensors.FromText(item.GetString()!, feature)
            : throw InferErrors.Bad($"BYTES data must hold strings only; got {item.GetRawText()} for '{feature.Name}'.");

    private static string? String(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.String ? value.GetString() : throw InferErrors.Bad($"'{field}' must be a string.");

    private static bool? Flag(JsonElement parameters, string name, string field) =>
        !parameters.TryGetProperty(name, out var value) ? null
            : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
            : throw InferErrors.Bad($"'{field}.{name}' must be true or false.");

    private static void RefuseSharedMemory(JsonElement parameters, string field)
    {
        if (parameters.TryGetProperty("shared_memory_region", out _))
        {
            throw InferErrors.Bad($"'{field}' names a shared memory region; this server does not support the shared memory "
                + "extension (send the data in the body).");
        }
    }

    private static void RequireObject(JsonElement element, string field)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw InferErrors.Bad($"'{field}' must be a JSON object.");
        }
    }
}
