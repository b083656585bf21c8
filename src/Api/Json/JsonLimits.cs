using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using ModelService.Api.Errors;

namespace ModelService.Api.Json;

/// <summary>What every JSON body must satisfy before it is read: strict UTF-8 and a bounded nesting depth.</summary>
internal static class JsonLimits
{
    /// <summary>No request needs more than three levels; a deeper document is refused before it costs stack or time.</summary>
    public const int MaxDepth = 32;

    public static JsonReaderOptions ReaderOptions => new() { MaxDepth = MaxDepth };

    /// <summary>The reader only finds bad UTF-8, or a <c>\u</c> escape naming half a surrogate pair, when a string is
    /// decoded, and reports it as an InvalidOperationException; checking first makes it a 400 naming the offset.</summary>
    public static void EnsureUtf8(ReadOnlySpan<byte> body)
    {
        if (Utf8.IsValid(body))
        {
            EnsureWholeSurrogatePairs(body);
            return;
        }
        var offset = 0;
        while (Rune.DecodeFromUtf8(body[offset..], out _, out var consumed) == OperationStatus.Done)
        {
            offset += consumed;
        }
        throw ApiProblemException.Validation("body", $"The body is not valid UTF-8 text (invalid byte at offset {offset}).");
    }

    /// <summary>Every <c>\uD800</c>-<c>\uDBFF</c> escape must be followed by a <c>\uDC00</c>-<c>\uDFFF</c> one and
    /// every low half must follow a high one: a lone half is not text in any encoding. Backslashes only appear inside
    /// strings in valid JSON, so escapes can be found without tracking string boundaries.</summary>
    private static void EnsureWholeSurrogatePairs(ReadOnlySpan<byte> body)
    {
        var offset = body.IndexOf((byte)'\\');
        while (offset >= 0 && offset + 1 < body.Length)
        {
            var unit = Escape(body, offset);
            var next = offset + (unit >= 0 ? 6 : 2);
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (Escape(body, next) is not (>= 0xDC00 and <= 0xDFFF))
                {
                    throw LoneSurrogate(offset);
                }
                next += 6;
            }
            else if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                throw LoneSurrogate(offset);
            }
            var rest = next < body.Length ? body[next..].IndexOf((byte)'\\') : -1;
            offset = rest < 0 ? -1 : next + rest;
        }
    }

    /// <summary>The UTF-16 unit of the <c>\uXXXX</c> escape at <paramref name="offset"/>, or -1 when there is none.</summary>
    private static int Escape(ReadOnlySpan<byte> body, int offset)
    {
        if (offset + 6 > body.Length || body[offset] != '\\' || body[offset + 1] != 'u')
        {
            return -1;
        }
        return int.TryParse(body.Slice(offset + 2, 4), System.Globalization.NumberStyles.AllowHexSpecifier,
            System.Globalization.CultureInfo.InvariantCulture, out var unit) ? unit : -1;
    }

    private static ApiProblemException LoneSurrogate(int offset) =>
        ApiProblemException.Validation("body",
            $"The body holds a \\u escape for half of a UTF-16 surrogate pair at offset {offset}; a string must hold whole characters.");
}
