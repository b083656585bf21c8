using System.Text;
using csFastFloat;
using ModelService.Model.Data;
using ModelService.Model.Inference;
using ModelService.Model.Preprocessing;

namespace ModelService.Api.Predictions;

internal static partial class PredictionRequestReader
{
    /// <summary>
    /// Reads a slice of records in their plain, common form, several times faster than through Utf8JsonReader: flat
    /// objects whose names are the model's feature names written without escapes, each at most once, with numbers for
    /// numeric features, unescaped strings for categorical ones, or null. Anything else (an escape, a nested value, an
    /// unknown or repeated name, a malformed number, a string for a numeric feature) returns null, and the caller reads
    /// the slice with Utf8JsonReader, which reports errors. What it accepts is valid JSON (the body is known to be valid
    /// UTF-8), and it yields the values Utf8JsonReader would: both convert numbers with correct rounding.
    /// </summary>
    internal static FeatureRows? TryReadPlainRecords(ReadOnlySpan<byte> slice, Predictor model) => TryReadPlain(slice, model, records: true);

    /// <summary>The same for a slice of instances: arrays of exactly one value per feature, in the plain forms above.</summary>
    internal static FeatureRows? TryReadPlainInstances(ReadOnlySpan<byte> slice, Predictor model) => TryReadPlain(slice, model, records: false);

    private static FeatureRows? TryReadPlain(ReadOnlySpan<byte> slice, Predictor model, bool records)
    {
        var features = model.Manifest.Features;
        if (features.Count > 256)
        {
            return null;
        }
        var lookup = Lookup(model);
        var buffer = new RowBuffer(features.Count);
        try
        {
            var read = records ? ReadPlainRecords(slice, features, lookup, buffer) : ReadPlainInstances(slice, features, lookup, buffer);
            return read ? buffer.Detach() : null;
        }
        finally
        {
            buffer.Dispose();
        }
    }

    private static bool ReadPlainRecords(ReadOnlySpan<byte> json, IReadOnlyList<FeatureTransform> features, FeatureLookup lookup, RowBuffer buffer)
    {
        var names = lookup.Names;
        Span<bool> seen = stackalloc bool[names.Length];
        var i = JsonArraySplitter.SkipWhitespace(json, 0);
        while (i < json.Length && json[i] == (byte)'{')
        {
            var row = buffer.AddRow();
            seen.Clear();
            var expected = 0;
            i = JsonArraySplitter.SkipWhitespace(json, i + 1);
            if (i < json.Length && json[i] == (byte)'}')
            {
                i++;
            }
            else
            {
                while (true)
                {
                    if (!TryReadPlainString(json, ref i, out var name))
                    {
                        return false;
                    }
                    // Records usually list features in the same order, so the next feature is tried first.
                    var column = expected < names.Length && name.SequenceEqual(names[expected]) ? expected : IndexOf(names, name);
                    if (column < 0 || seen[column])
                    {
                        return false;
                    }
                    seen[column] = true;
                    i = JsonArraySplitter.SkipWhitespace(json, i);
                    if (i >= json.Length || json[i] != (byte)':')
                    {
                        return false;
                    }
                    i = JsonArraySplitter.SkipWhitespace(json, i + 1);
                    if (!TryReadPlainValue(json, ref i, features[column], lookup.Categories[column], out row[column]))
                    {
                        return false;
                    }
                    expected = column + 1;
                    i = JsonArraySplitter.SkipWhitespace(json, i);
                    if (i < json.Length && json[i] == (byte)',')
                    {
                        i = JsonArraySplitter.SkipWhitespace(json, i + 1);
                        continue;
                    }
                    if (i < json.Length && json[i] == (byte)'}')
                    {
                        i++;
                        break;
                    }
                    return false;
                }
            }
            if (AfterElement(json, ref i) is { } last)
            {
                return last;
            }
        }
        return false;
    }

    private static bool ReadPlainInstances(ReadOnlySpan<byte> json, IReadOnlyList<FeatureTransform> features, FeatureLookup lookup, RowBuffer buffer)
    {
        var i = JsonArraySplitter.SkipWhitespace(json, 0);
        while (i < json.Length && json[i] == (byte)'[')
        {
            var row = buffer.AddRow();
            i = JsonArraySplitter.SkipWhitespace(json, i + 1);
            for (var column = 0; column < features.Count; column++)
            {
                if (column > 0)
                {
                    if (i >= json.Length || json[i] != (byte)',')
                    {
                        return false;
                    }
                    i = JsonArraySplitter.SkipWhitespace(json, i + 1);
                }
                if (!TryReadPlainValue(json, ref i, features[column], lookup.Categories[column], out row[column]))
                {
                    return false;
                }
                i = JsonArraySplitter.SkipWhitespace(json, i);
            }
            if (i >= json.Length || json[i] != (byte)']')
            {
                return false;
            }
            i++;
            if (AfterElement(json, ref i) is { } last)
            {
                return last;
            }
        }
        return false;
    }

    // After an element: true at the end of the slice, false on anything but a comma, null past a comma to the next one.
    private static bool? AfterElement(ReadOnlySpan<byte> json, ref int i)
    {
        i = JsonArraySplitter.SkipWhitespace(json, i);
        if (i == json.Length)
        {
            return true;
        }
        if (json[i] != (byte)',')
        {
            return false;
        }
        i = JsonArraySplitter.SkipWhitespace(json, i + 1);
        return null;
    }

    private static bool TryReadPlainValue(ReadOnlySpan<byte> json, ref int i, FeatureTransform feature, (byte[] Bytes, string Label)[]? categories,
        out FeatureValue value)
    {
        value = FeatureValue.Missing;
        if (i >= json.Length)
        {
            return false;
        }
        if (json[i] == (byte)'n')
        {
            if (!json[i..].StartsWith("null"u8))
            {
                return false;
            }
            i += 4;
            return true;
        }
        if (feature.Type != ColumnType.Numeric)
        {
            if (!TryReadPlainString(json, ref i, out var text))
            {
                return false;
            }
            foreach (var (bytes, label) in categories ?? [])
            {
                if (text.SequenceEqual(bytes))
                {
                    value = FeatureValue.FromLabel(label);
                    return true;
                }
            }
            value = FeatureValue.FromLabel(Encoding.UTF8.GetString(text));
            return true;
        }
        // fast_float's parser (csFastFloat) rounds correctly, as Utf8Parser does, at about twice its speed; the grammar
        // check comes first because it accepts forms JSON does not ("1.", "+1", "inf").
        var length = JsonNumberLength(json[i..]);
        if (length == 0 || !FastDoubleParser.TryParseDouble(json.Slice(i, length), out var consumed, out var number) || consumed != length
            || !double.IsFinite(number))
        {
            return false;
        }
        i += length;
        value = FeatureValue.FromNumber(number);
        return true;
    }

    // A string with no escape and no control character (which JSON forbids unescaped): its content, with i moved past it.
    private static bool TryReadPlainString(ReadOnlySpan<byte> json, ref int i, out ReadOnlySpan<byte> content)
    {
        content = default;
        if (i >= json.Length || json[i] != (byte)'"')
        {
            return false;
        }
        var length = json[(i + 1)..].IndexOfAny((byte)'"', (byte)'\\');
        if (length < 0 || json[i + 1 + length] != (byte)'"')
        {
            return false;
        }
        content = json.Slice(i + 1, length);
        if (content.IndexOfAnyInRange((byte)0, (byte)0x1F) >= 0)
        {
            return false;
        }
        i += length + 2;
        return true;
    }

    /// <summary>The length of the JSON number (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?) at the start of
    /// <paramref name="text"/>, or 0 when there is none.</summary>
    internal static int JsonNumberLength(ReadOnlySpan<byte> text)
    {
        var i = 0;
        if (i < text.Length && text[i] == (byte)'-')
        {
            i++;
        }
        if (i < text.Length && text[i] == (byte)'0')
        {
            i++;
        }
        else
        {
            var digits = Digits(text, i);
            if (digits == 0)
            {
                return 0;
            }
            i += digits;
        }
        if (i < text.Length && text[i] == (byte)'.')
        {
            var digits = Digits(text, i + 1);
            if (digits == 0)
            {
                return 0;
            }
            i += 1 + digits;
        }
        if (i < text.Length && (text[i] | 0x20) == (byte)'e')
        {
            i++;
            if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }
            var digits = Digits(text, i);
            if (digits == 0)
            {
                return 0;
            }
            i += digits;
        }
        // A digit straight after the number ("01") makes it malformed.
        return i < text.Length && char.IsAsciiDigit((char)text[i]) ? 0 : i;
    }

    private static int Digits(ReadOnlySpan<byte> text, int start)
    {
        var end = text[start..].IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        return end < 0 ? text.Length - start : end;
    }

    private static int IndexOf(byte[][] names, ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (name.SequenceEqual(names[i]))
            {
                return i;
            }
        }
        return -1;
    }
}
