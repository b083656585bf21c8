using System.Text;
using ModelService.Api.Infrastructure;

namespace ModelService.Api.Datasets;

/// <summary>An upload as named columns of text cells (null where empty), before types are inferred.</summary>
internal sealed class RawTable
{
    private readonly List<string?>[] _columns;

    public RawTable(IReadOnlyList<string> names)
    {
        Names = names;
        _columns = [.. names.Select(_ => new List<string?>())];
    }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<IReadOnlyList<string?>> Columns => _columns;

    public int RowCount => _columns[0].Count;

    public void Add(int column, string? cell) => _columns[column].Add(string.IsNullOrWhiteSpace(cell) ? null : cell.Trim());

    /// <summary>Checks header names: present, non-empty, unique, not too many. <paramref name="field"/> formats the
    /// errors key of column i.</summary>
    public static IReadOnlyList<string> ValidateNames(IReadOnlyList<string?> names, int maxColumns, Func<int, string> field)
    {
        if (names.Count > maxColumns)
        {
            throw ApiProblemException.Validation("columns",
                $"The dataset has {names.Count} columns; at most {maxColumns} are allowed (Limits:MaxDatasetColumns).");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new string[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i]?.Trim();
            if (string.IsNullOrEmpty(name))
            {
                throw ApiProblemException.Validation(field(i), $"Column {i + 1} has an empty name.");
            }
            if (!seen.Add(name))
            {
                throw ApiProblemException.Validation(field(i), $"Column name '{name}' appears more than once.");
            }
            result[i] = name;
        }
        return result;
    }

    /// <summary>Decodes strict UTF-8 (a leading byte-order mark is dropped); anything else is a 400 naming the offset.</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> body)
    {
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        var offset = body.StartsWith(bom) ? bom.Length : 0;
        try
        {
            return StrictUtf8.GetString(body[offset..]);
        }
        catch (DecoderFallbackException e)
        {
            throw ApiProblemException.Validation("body", $"The body is not valid UTF-8 text (invalid byte at offset {offset + e.Index}).");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
