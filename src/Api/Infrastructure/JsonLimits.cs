using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace ModelService.Api.Infrastructure;

/// <summary>What every JSON body must satisfy before it is read: strict UTF-8 and a bounded nesting depth.</summary>
internal static class JsonLimits
{
    /// <summary>No request needs more than three levels; a deeper document is refused before it costs stack or time.</summary>
    public const int MaxDepth = 32;

    public static JsonReaderOptions ReaderOptions => new() { MaxDepth = MaxDepth };

    /// <summary>The reader only finds bad UTF-8 when a string is decoded, and reports it as an InvalidOperationException;
    /// checking first makes it a 400 naming the offset.</summary>
    public static void EnsureUtf8(ReadOnlySpan<byte> body)
    {
        if (Utf8.IsValid(body))
        {
            return;
        }
        var offset = 0;
        while (Rune.DecodeFromUtf8(body[offset..], out _, out var consumed) == OperationStatus.Done)
        {
            offset += consumed;
        }
        throw ApiProblemException.Validation("body", $"The body is not valid UTF-8 text (invalid byte at offset {offset}).");
    }
}
