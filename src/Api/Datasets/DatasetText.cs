using ModelService.Api.Errors;

namespace ModelService.Api.Datasets;

/// <summary>Checks shared by the CSV and JSON upload readers.</summary>
internal static class DatasetText
{
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

    /// <summary>Strict UTF-8 or a 400 naming the offset of the first bad byte (<paramref name="offset"/> is where
    /// <paramref name="text"/> starts in the body).</summary>
    public static void EnsureUtf8(ReadOnlySpan<byte> text, int offset)
    {
        if (System.Text.Unicode.Utf8.IsValid(text))
        {
            return;
        }
        var valid = 0;
        while (System.Text.Rune.DecodeFromUtf8(text[valid..], out _, out var consumed) == System.Buffers.OperationStatus.Done)
        {
            valid += consumed;
        }
        throw ApiProblemException.Validation("body", $"The body is not valid UTF-8 text (invalid byte at offset {offset + valid}).");
    }
}
