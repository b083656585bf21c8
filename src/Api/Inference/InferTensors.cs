using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;

namespace ModelService.Api.Inference;

/// <summary>A request the protocol answers with <c>{"error": ...}</c> (REST) or a status (gRPC) and <see cref="StatusCode"/>.</summary>
internal sealed class InferException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public static InferException Bad(string message) => new(StatusCodes.Status400BadRequest, message);
}

/// <summary>The model's input tensor decoded into raw feature values, <see cref="RowCount"/> rows in model feature order,
/// in a pooled array returned by <see cref="Dispose"/>.</summary>
internal sealed class InputTensor : IDisposable
{
    private FeatureValue[] _values;

    public InputTensor(int rowCount, int width)
    {
        RowCount = rowCount;
        Length = rowCount * width;
        _values = ArrayPool<FeatureValue>.Shared.Rent(Length);
    }

    public int RowCount { get; }

    public int Length { get; }

    /// <summary>The pooled array; only its first <see cref="Length"/> values belong to this tensor.</summary>
    public FeatureValue[] Array => _values;

    public Span<FeatureValue> Values => _values.AsSpan(0, Length);

    public void Dispose()
    {
        var values = Interlocked.Exchange(ref _values, []);
        if (values.Length > 0)
        {
            // Only the used part can hold label strings; clearing it keeps the pool from holding them alive.
            values.AsSpan(0, Length).Clear();
            ArrayPool<FeatureValue>.Shared.Return(values);
        }
    }
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
            throw InferException.Bad($"Unknown input '{name}'; this model takes one input named '{InputName}'.");
        }
        var categorical = model.Features.Where(f => f.Type == ColumnType.Categorical).Select(f => f.Name).ToList();
        switch (datatype)
        {
            case "FP32" or "FP64" when categorical.Count > 0:
                throw InferException.Bad($"This model has categorical features ({string.Join(", ", categorical)}); send a BYTES tensor "
                    + "of strings in feature order.");
            case "FP32" or "FP64" or "BYTES":
                break;
            default:
                throw InferException.Bad($"Unsupported datatype '{datatype}'; '{InputName}' takes FP32 or FP64 (BYTES for models with "
                    + "categorical features).");
        }
        var width = model.Features.Count;
        if (shape.Count != 2 || shape[1] != width || shape[0] < 1)
        {
            throw InferException.Bad($"'{InputName}' must have shape [N, {width}] with N >= 1 (features: "
                + $"{string.Join(", ", model.Features.Select(f => f.Name))}); got [{string.Join(", ", shape)}].");
        }
        if (shape[0] > maxRows)
        {
            throw new InferException(StatusCodes.Status413PayloadTooLarge,
                $"{shape[0]} rows is more than the limit of {maxRows} (Predictions:MaxRows).");
        }
        return (int)shape[0];
    }

    /// <summary>Bytes one element of <paramref name="datatype"/> takes in raw form; 0 for BYTES (length-prefixed).</summary>
    public static int ElementSize(string datatype) => datatype switch
    {
        "FP32" => sizeof(float),
        "FP64" => sizeof(double),
        _ => 0,
    };

    /// <summary>Decodes <paramref name="raw"/>: little-endian FP32/FP64, or BYTES elements each prefixed with its 4-byte
    /// little-endian length. <paramref name="raw"/> must hold exactly the tensor.</summary>
    public static void ReadRaw(ReadOnlySpan<byte> raw, string datatype, ModelManifest model, InputTensor into)
    {
        var values = into.Values;
        var size = ElementSize(datatype);
        if (size > 0 && raw.Length != (long)values.Length * size)
        {
            throw InferException.Bad($"'{InputName}' is {datatype} [{into.RowCount}, {model.Features.Count}], which is "
                + $"{(long)values.Length * size} bytes of binary data; got {raw.Length}.");
        }
        switch (datatype)
        {
            case "FP32":
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = Finite(BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]), i, datatype);
                }
                break;
            case "FP64":
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = Finite(BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * sizeof(double))..]), i, datatype);
                }
                break;
            default:
                ReadBytes(raw, model, values);
                break;
        }
    }

    /// <summary>A BYTES element as a feature value: a label for a categorical feature, else a number in invariant form.</summary>
    public static FeatureValue FromText(string text, FeatureTransformInfo feature) =>
        feature.Categorical
            ? FeatureValue.FromLabel(text)
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                ? FeatureValue.FromNumber(number)
                : throw InferException.Bad($"'{text}' is not a number, and '{feature.Name}' is a numeric feature.");

    public static FeatureValue Finite(double value, int index, string datatype) =>
        double.IsFinite(value) ? FeatureValue.FromNumber(value)
            : throw InferException.Bad($"Element {index} of '{InputName}' is {value.ToString(CultureInfo.InvariantCulture)}; {datatype} "
                + "values must be finite.");

    private static void ReadBytes(ReadOnlySpan<byte> raw, ModelManifest model, Span<FeatureValue> values)
    {
        var offset = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (raw.Length - offset < sizeof(int))
            {
                throw InferException.Bad($"'{InputName}' BYTES data ends before element {i} of {values.Length}.");
            }
            var length = BinaryPrimitives.ReadUInt32LittleEndian(raw[offset..]);
            offset += sizeof(int);
            if (length > (uint)(raw.Length - offset))
            {
                throw InferException.Bad($"Element {i} of '{InputName}' claims {length} bytes, more than the {raw.Length - offset} left.");
            }
            var feature = FeatureTransformInfo.Of(model, i % model.Features.Count);
            string text;
            try
            {
                text = Strict.GetString(raw.Slice(offset, (int)length));
            }
            catch (DecoderFallbackException)
            {
                throw InferException.Bad($"Element {i} of '{InputName}' is not valid UTF-8.");
            }
            values[i] = FromText(text, feature);
            offset += (int)length;
        }
        if (offset != raw.Length)
        {
            throw InferException.Bad($"'{InputName}' BYTES data has {raw.Length - offset} bytes after its {values.Length} elements.");
        }
    }
}

/// <summary>The two facts about a feature that decoding needs.</summary>
internal readonly record struct FeatureTransformInfo(string Name, bool Categorical)
{
    public static FeatureTransformInfo Of(ModelManifest model, int index) =>
        new(model.Features[index].Name, model.Features[index].Type == ColumnType.Categorical);
}
