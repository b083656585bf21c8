using System.Buffers;

namespace ModelService.Api.Predictions;

/// <summary>
/// Finds, without parsing, where a large JSON array ends and where to cut it into slices of whole elements, so that
/// the slices can be parsed on several cores. It only tracks strings (with their escapes) and bracket depth, so it is
/// lenient: a caller must parse every slice with a real reader and check that each one ends exactly where this said,
/// falling back to a sequential parse when not. On valid JSON the cuts are exact.
/// </summary>
internal static class JsonArraySplitter
{
    private static readonly SearchValues<byte> s_structural = SearchValues.Create("\"[]{},"u8);
    private static readonly SearchValues<byte> s_stringSpecial = SearchValues.Create("\"\\"u8);

    /// <summary>The array's closing bracket and the commas between top-level elements chosen as cut points.</summary>
    /// <param name="Close">Index of the <c>]</c> that closes the array.</param>
    /// <param name="Cuts">Indexes of the top-level commas that separate the slices, in order (possibly none).</param>
    public readonly record struct Split(int Close, int[] Cuts);

    /// <summary>Scans the array that opens at <paramref name="open"/> (a <c>[</c>) and picks up to
    /// <paramref name="slices"/> - 1 cuts, each at the first top-level comma past an equal share of the bytes.</summary>
    /// <returns>The split, or null when no closing bracket was found (the caller's parser reports why).</returns>
    public static Split? TrySplit(ReadOnlySpan<byte> json, int open, int slices)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slices, 1);
        if (open < 0 || open >= json.Length || json[open] != (byte)'[')
        {
            return null;
        }
        var share = Math.Max(1, (json.Length - open) / slices);
        var nextCut = open + share;
        var cuts = new List<int>(slices - 1);
        var depth = 0;
        var i = open;
        while (i < json.Length)
        {
            var found = json[i..].IndexOfAny(s_structural);
            if (found < 0)
            {
                return null;
            }
            i += found;
            switch (json[i])
            {
                case (byte)'"':
                    i = EndOfString(json, i + 1);
                    if (i < 0)
                    {
                        return null;
                    }
                    break;
                case (byte)'[' or (byte)'{':
                    depth++;
                    break;
                case (byte)']' or (byte)'}':
                    depth--;
                    if (depth == 0)
                    {
                        return json[i] == (byte)']' ? new Split(i, [.. cuts]) : null;
                    }
                    break;
                case (byte)',' when depth == 1 && i >= nextCut && cuts.Count < slices - 1:
                    cuts.Add(i);
                    nextCut = i + share;
                    break;
            }
            i++;
        }
        return null;
    }

    // The index of the quote that closes a string whose content starts at `start`, or -1.
    private static int EndOfString(ReadOnlySpan<byte> json, int start)
    {
        var i = start;
        while (i < json.Length)
        {
            var found = json[i..].IndexOfAny(s_stringSpecial);
            if (found < 0)
            {
                return -1;
            }
            i += found;
            if (json[i] == (byte)'"')
            {
                return i;
            }
            i += 2; // a backslash and the character it escapes
        }
        return -1;
    }
}
