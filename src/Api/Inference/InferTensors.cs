using System.Buffers.Binary;
using System.Globalization;
using System.Numerics.Tensors;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using ModelService.Api.Errors;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;

namespace ModelService.Api.Inference;

/// <summary>The protocol's refusals: the project's <see cref="ApiProblemException"/>, which REST answers through the one
/// error path (as <c>{"error": ...}</c> under /v2) and gRPC maps to a status by its code.</summary>
internal static class InferErrors
{
    public static ApiProblemException Bad(string message) => new(StatusCodes.Status400BadRequest, "Bad request", message);
}

/// <summary>What REST and gRPC share about the one input (<c>input0</c>, [N, F]) and the one output (<c>output0</c>,
/// FP64 [N, 1]): the datatype and shape rules, and decoding the values from raw little-endian bytes.</summary>
internal static class InferTensors
{
    public const string InputName = "input0";
    public const string OutputName = "output0";

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Checks the input's name, datatype and shape against the model; returns the row count.</summary>
    public static int CheckInput(string? name, string? datatype, IReadOnlyList<long> shape, ModelManifest model, int maxRows)
    {
        if (name != InputName)
        {
            throw InferErrors.Bad($"Unknown input '{name}'; this model takes one input named '{InputName}'.");
        }
        switch (datatype)
        {
            case "FP32" or "FP64" when HasCategorical(model):
                throw InferErrors.Bad("This model has categorical features ("
                    + string.Join(", ", model.Features.Where(f => f.Type == ColumnType.Categorical).Select(f => f.Name)) + "); send a BYTES tensor "
                    + "of strings in feature order.");
            case "FP32" or "FP64" or "BYTES":
                break;
            default:
                throw InferErrors.Bad($"Unsupported datatype '{datatype}'; '{InputName}' takes FP32 or FP64 (BYTES for models with "
                    + "categorical features).");
        }
        var width = model.Features.Count;
        if (shape.Count != 2 || shape[1] != width || shape[0] < 1)
        {
            throw InferErrors.Bad($"'{InputName}' must have shape [N, {width}] with N >= 1 (features: "
                + $"{string.Join(", ", model.Features.Select(f => f.Name))}); got [{string.Join(", ", shape)}].");
        }
        if (shape[0] > maxRows)
        {
            throw ApiProblemException.TooLarge(
                $"{shape[0]} rows is more than the limit of {maxRows} (Predictions:MaxRows).");
        }
        return (int)shape[0];
    }

    /// <summary>Checks a tensor model's input: FP32 or FP64 of shape [N, H, W, C] with the model's C (and, for a
    /// flatten-dense model, its H and W). <paramref name="maxValues"/> bounds N x H x W x C by what the request can hold,
    /// since the shape is declared before the values arrive.</summary>
    public static TensorLayout CheckTensorInput(string? name, string? datatype, IReadOnlyList<long> shape, ModelManifest model,
        int maxRows, long maxValues)
    {
        if (name != InputName)
        {
            throw InferErrors.Bad($"Unknown input '{name}'; this model takes one input named '{InputName}'.");
        }
        if (datatype is not ("FP32" or "FP64"))
        {
            throw InferErrors.Bad($"Unsupported datatype '{datatype}'; '{InputName}' of a tensor model takes FP32 or FP64.");
        }
        var (height, width, channels) = (model.InputShape[0], model.InputShape[1], model.InputShape[2]);
        var expected = model.PerPosition ? $"[N, H, W, {channels}] (any H and W: the model predicts per position)"
            : $"[N, {height}, {width}, {channels}] (the shape the model was trained on)";
        if (shape.Count != 4 || shape.Any(d => d < 1 || d > int.MaxValue) || !model.Takes(shape[1], shape[2], shape[3]))
        {
            throw InferErrors.Bad($"'{InputName}' must have shape {expected}; got [{string.Join(", ", shape)}].");
        }
        if (shape[0] > maxRows)
        {
            throw ApiProblemException.TooLarge($"{shape[0]} samples is more than the limit of {maxRows} (Predictions:MaxRows).");
        }
        var values = shape[0] * shape[1] * shape[2] * shape[3];
        if (values > maxValues || shape[1] * shape[2] * shape[3] > int.MaxValue / shape[0])
        {
            throw InferErrors.Bad($"'{InputName}' has shape [{string.Join(", ", shape)}], {values} values, more than the request's "
                + $"{maxValues} bytes can hold.");
        }
        return new TensorLayout((int)shape[0], (int)shape[1], (int)shape[2], channels, model.PerPosition);
    }

    /// <summary>A tensor model's input from <paramref name="raw"/> little-endian FP32 (used in place) or FP64 (converted),
    /// which must hold exactly the tensor, every value finite.</summary>
    public static InputTensor FromRawTensor(ReadOnlyMemory<byte> raw, string datatype, TensorLayout layout)
    {
        var length = (long)layout.Count * layout.SampleSize;
        var size = ElementSize(datatype);
        if (raw.Length != length * size)
        {
            throw InferErrors.Bad($"'{InputName}' is {datatype} [{layout.Count}, {layout.Height}, {layout.Width}, {layout.Channels}], "
                + $"which is {length * size} bytes of binary data; got {raw.Length}.");
        }
        if (datatype == "FP32" && BitConverter.IsLittleEndian)
        {
            EnsureFinite(MemoryMarshal.Cast<byte, float>(raw.Span), datatype);
            return InputTensor.InPlace(raw, layout);
        }
        var tensor = InputTensor.ForTensor(layout);
        try
        {
            var floats = tensor.Floats;
            var bytes = raw.Span;
            for (var i = 0; i < floats.Length; i++)
            {
                var value = size == sizeof(float) ? BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * size)..])
                    : BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * size)..]);
                floats[i] = FiniteFloat(value, i, datatype);
            }
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>A value of a tensor model's input: finite, and within float32's range (the network computes in float32).</summary>
    public static float FiniteFloat(double value, int index, string datatype) =>
        double.IsFinite(value) && float.IsFinite((float)value) ? (float)value
            : throw InferErrors.Bad($"Element {index} of '{InputName}' is {value.ToString(CultureInfo.InvariantCulture)}; {datatype} "
                + "values must be finite (and within float32's range for a tensor model).");

    /// <summary>True when a feature is categorical (a loop: this runs on every request).</summary>
    public static bool HasCategorical(ModelManifest model)
    {
        for (var i = 0; i < model.Features.Count; i++)
        {
            if (model.Features[i].Type == ColumnType.Categorical)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Bytes one element of <paramref name="datatype"/> takes in raw form; 0 for BYTES (length-prefixed).</summary>
    public static int ElementSize(string datatype) => datatype switch
    {
        "FP32" => sizeof(float),
        "FP64" => sizeof(double),
        _ => 0,
    };

    /// <summary>The input from <paramref name="raw"/>, which must hold exactly the tensor: little-endian FP32/FP64 (used in
    /// place after a check that every value is finite), or BYTES elements each prefixed with its 4-byte little-endian
    /// length.</summary>
    public static InputTensor FromRaw(ReadOnlyMemory<byte> raw, string datatype, int rows, ModelManifest model)
    {
        var width = model.Features.Count;
        var length = (long)rows * width;
        var size = ElementSize(datatype);
        if (size > 0 && raw.Length != length * size)
        {
            throw InferErrors.Bad($"'{InputName}' is {datatype} [{rows}, {width}], which is {length * size} bytes of binary data; "
                + $"got {raw.Length}.");
        }
        if (size > 0 && BitConverter.IsLittleEndian)
        {
            if (datatype == "FP32")
            {
                EnsureFinite(MemoryMarshal.Cast<byte, float>(raw.Span), datatype);
            }
            else
            {
                EnsureFinite(MemoryMarshal.Cast<byte, double>(raw.Span), datatype);
            }
            return InputTensor.InPlace(raw, datatype, rows, width);
        }
        var tensor = new InputTensor(rows, width);
        try
        {
            var values = tensor.Values;
            var bytes = raw.Span;
            for (var i = 0; i < values.Length && size > 0; i++)
            {
                // A big-endian machine cannot use the bytes in place.
                values[i] = Finite(size == sizeof(float) ? BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * size)..])
                    : BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * size)..]), i, datatype);
            }
            if (size == 0)
            {
                ReadBytes(bytes, model, values);
            }
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>A BYTES element as a feature value: a label for a categorical feature, else a number in invariant form.</summary>
    public static FeatureValue FromText(string text, FeatureTransformInfo feature) =>
        feature.Categorical
            ? FeatureValue.FromLabel(text)
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                ? FeatureValue.FromNumber(number)
                : throw InferErrors.Bad($"'{text}' is not a number, and '{feature.Name}' is a numeric feature.");

    public static FeatureValue Finite(double value, int index, string datatype) =>
        double.IsFinite(value) ? FeatureValue.FromNumber(value)
            : throw InferErrors.Bad($"Element {index} of '{InputName}' is {value.ToString(CultureInfo.InvariantCulture)}; {datatype} "
                + "values must be finite.");

    private static void EnsureFinite<T>(ReadOnlySpan<T> values, string datatype)
        where T : IFloatingPointIeee754<T>
    {
        if (TensorPrimitives.IsFiniteAll(values))
        {
            return;
        }
        for (var i = 0; i < values.Length; i++)
        {
            Finite(double.CreateTruncating(values[i]), i, datatype);
        }
    }

    private static void ReadBytes(ReadOnlySpan<byte> raw, ModelManifest model, Span<FeatureValue> values)
    {
        var offset = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (raw.Length - offset < sizeof(int))
            {
                throw InferErrors.Bad($"'{InputName}' BYTES data ends before element {i} of {values.Length}.");
            }
            var length = BinaryPrimitives.ReadUInt32LittleEndian(raw[offset..]);
            offset += sizeof(int);
            if (length > (uint)(raw.Length - offset))
            {
                throw InferErrors.Bad($"Element {i} of '{InputName}' claims {length} bytes, more than the {raw.Length - offset} left.");
            }
            var feature = FeatureTransformInfo.Of(model, i % model.Features.Count);
            string text;
            try
            {
                text = Strict.GetString(raw.Slice(offset, (int)length));
            }
            catch (DecoderFallbackException)
            {
                throw InferErrors.Bad($"Element {i} of '{InputName}' is not valid UTF-8.");
            }
            values[i] = FromText(text, feature);
            offset += (int)length;
        }
        if (offset != raw.Length)
        {
            throw InferErrors.Bad($"'{InputName}' BYTES data has {raw.Length - offset} bytes after its {values.Length} elements.");
        }
    }
}

/// <summary>The two facts about a feature that decoding needs.</summary>
internal readonly record struct FeatureTransformInfo(string Name, bool Categorical)
{
    public static FeatureTransformInfo Of(ModelManifest model, int index) =>
        new(model.Features[index].Name, model.Features[index].Type == ColumnType.Categorical);
}
