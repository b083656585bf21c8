namespace ModelService.Api.Predictions;

/// <summary>
/// Proposes, without reading it, where to cut a large JSON array of rows into slices of whole elements so that the
/// slices can be parsed on several cores. The closing bracket is taken to be the last <c>]</c> of the body, and each
/// cut is the first comma past an equal share of the bytes that is followed (after whitespace) by the byte the first
/// element starts with: <c>{</c> for records, <c>[</c> for instances. These are guesses that a string holding such a
/// comma, or a <c>]</c> after the array, would mislead; callers accept them only when a real reader finds every slice
/// to end exactly at the next cut and the last one at the closing bracket, which proves them right, and read the body
/// sequentially otherwise.
/// </summary>
internal static class JsonArraySplitter
{
    /// <summary>The guessed closing bracket of the array and cut points between its elements.</summary>
    /// <param name="Close">Index of the <c>]</c> taken to close the array.</param>
    /// <param name="Cuts">Indexes of the commas that separate the slices, in increasing order (possibly none).</param>
    public readonly record struct Split(int Close, int[] Cuts);

    /// <summary>Proposes up to <paramref name="slices"/> - 1 cuts in the array that opens at <paramref name="open"/>
    /// (a <c>[</c>). The cost does not grow with the array: only the bytes around each cut are looked at.</summary>
    /// <returns>The split, or null when the body has no later <c>]</c> or the array is empty.</returns>
    public static Split? TrySplit(ReadOnlySpan<byte> json, int open, int slices)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slices, 1);
        if (open < 0 || open >= json.Length || json[open] != (byte)'[')
        {
            return null;
        }
        var close = json.LastIndexOf((byte)']');
        var first = SkipWhitespace(json, open + 1);
        if (close <= first)
        {
            return null;
        }
        var startByte = json[first];
        if (startByte is not ((byte)'{' or (byte)'['))
        {
            return new Split(close, []);
        }
        var share = (close - open) / slices;
        var cuts = new List<int>(slices - 1);
        for (var k = 1; k < slices; k++)
        {
            var from = Math.Max(open + (k * share), cuts.Count == 0 ? first : cuts[^1] + 1);
            var cut = NextBoundary(json, from, close, startByte);
            if (cut < 0)
            {
                break;
            }
            cuts.Add(cut);
        }
        return new Split(close, [.. cuts]);
    }

    // The first comma in [from, end) followed, after whitespace, by startByte; or -1.
    private static int NextBoundary(ReadOnlySpan<byte> json, int from, int end, byte startByte)
    {
        var i = from;
        while (i < end)
        {
            var comma = json[i..end].IndexOf((byte)',');
            if (comma < 0)
            {
                return -1;
            }
            i += comma;
            var next = SkipWhitespace(json, i + 1);
            if (next < end && json[next] == startByte)
            {
                return i;
            }
            i++;
        }
        return -1;
    }

    /// <summary>The index of the first byte at or after <paramref name="i"/> that is not JSON whitespace.</summary>
    internal static int SkipWhitespace(ReadOnlySpan<byte> json, int i)
    {
        while (i < json.Length && json[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }
        return i;
    }
}
