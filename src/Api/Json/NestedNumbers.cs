using System.Text.Json;
using ModelService.Api.Errors;

namespace ModelService.Api.Json;

/// <summary>
/// Reads one JSON array of nested arrays of numbers (<c>null</c> for a missing value, read as NaN), such as a tensor
/// dataset's x ([N, H, W, C]) or a tensor model's instances. The depth is set by the first number and each level's length
/// by the first array at that level; an array that differs, an empty one, or a value that is not a number is a 400
/// naming its path (<c>x[3][1]</c>). Meant for two passes: the first finds the shape and counts the values against the
/// limits without keeping any; the second, after <see cref="Filling(float[])"/>, writes them into an array of that size.
/// </summary>
/// <param name="field">The property, as errors name it.</param>
/// <param name="depths">The depths allowed (4 for [N, H, W, C]).</param>
/// <param name="shape">The shapes allowed, for errors ("[N, H, W, C]").</param>
/// <param name="maxValues">More values than this is a 413 naming <paramref name="valuesLimit"/>.</param>
/// <param name="maxOuter">More entries in the outer array than this is a 413 naming <paramref name="outerLimit"/>.</param>
internal sealed class NestedNumbers(string field, int[] depths, string shape, long maxValues, string valuesLimit,
    int maxOuter = int.MaxValue, string outerLimit = "")
{
    private readonly int[] _lengths = [.. Enumerable.Repeat(-1, depths.Max())];
    private int _depth = -1;
    private bool _seen;
    private float[]? _floats;
    private double[]? _doubles;

    /// <summary>Values read so far in this pass.</summary>
    public long Count { get; private set; }

    /// <summary>The shape found by the first pass; null when the property never appeared. A depth not allowed is a 400.</summary>
    public int[]? Shape()
    {
        if (!_seen)
        {
            return null;
        }
        if (!depths.Contains(_depth))
        {
            throw ApiProblemException.Validation(field, $"'{field}' is nested {_depth} deep; it must be {Describe()}.");
        }
        return _lengths[.._depth];
    }

    /// <summary>Starts the second pass, which checks everything again while writing the values into <paramref name="values"/>.</summary>
    public NestedNumbers Filling(float[] values)
    {
        (_floats, Count) = (values, 0);
        return this;
    }

    /// <inheritdoc cref="Filling(float[])"/>
    public NestedNumbers Filling(double[] values)
    {
        (_doubles, Count) = (values, 0);
        return this;
    }

    /// <summary>Reads the array the reader is on, leaving the reader on its closing bracket.</summary>
    public void Read(ref Utf8JsonReader reader)
    {
        if (_seen && _floats is null && _doubles is null)
        {
            throw ApiProblemException.Validation(field, $"'{field}' is given twice.");
        }
        _seen = true;
        var maxDepth = _lengths.Length;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw ApiProblemException.Validation(field, $"'{field}' must be {Describe()}.");
        }
        Span<int> index = stackalloc int[maxDepth + 1];
        var level = 1;
        index[0] = 0;
        while (level > 0)
        {
            reader.Read();
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    if ((_depth >= 0 && level >= _depth) || level >= maxDepth)
                    {
                        throw Invalid(index, level + 1, "is an array where a number belongs");
                    }
                    index[level] = 0;
                    level++;
                    break;
                case JsonTokenType.EndArray:
                    EndArray(index, level);
                    level--;
                    if (level > 0)
                    {
                        Next(index, level);
                    }
                    break;
                case JsonTokenType.Number or JsonTokenType.Null:
                    if (_depth < 0)
                    {
                        _depth = level;
                    }
                    else if (level != _depth)
                    {
                        throw Invalid(index, level + 1, "is a number where an array belongs");
                    }
                    var value = double.NaN;
                    if (reader.TokenType == JsonTokenType.Number && (!reader.TryGetDouble(out value) || !double.IsFinite(value)))
                    {
                        throw Invalid(index, level + 1, "is not a finite number");
                    }
                    Store(value);
                    Next(index, level);
                    break;
                default:
                    throw Invalid(index, level + 1, "is not a number; values are numbers, or null for a missing one");
            }
        }
    }

    private void Store(double value)
    {
        if (Count == maxValues)
        {
            throw ApiProblemException.TooLarge($"'{field}' has more than {maxValues} values ({valuesLimit}).");
        }
        if (_floats is not null)
        {
            _floats[Count] = (float)value;
        }
        else if (_doubles is not null)
        {
            _doubles[Count] = value;
        }
        Count++;
    }

    private void Next(Span<int> index, int level)
    {
        if (++index[level - 1] > maxOuter && level == 1)
        {
            throw ApiProblemException.TooLarge($"'{field}' has more than {maxOuter} entries ({outerLimit}).");
        }
    }

    private void EndArray(Span<int> index, int level)
    {
        var length = index[level - 1];
        if (length == 0)
        {
            throw Invalid(index, level, "is empty; every dimension must be at least 1");
        }
        if (_lengths[level - 1] < 0)
        {
            _lengths[level - 1] = length;
        }
        else if (_lengths[level - 1] != length)
        {
            throw Invalid(index, level, $"has {length} entries where the first array at its level has {_lengths[level - 1]}; "
                + "the nesting must be regular");
        }
    }

    /// <summary>The path of the element at <paramref name="level"/> (1 = the whole array) from the indices so far.</summary>
    private ApiProblemException Invalid(Span<int> index, int level, string problem)
    {
        var path = field + string.Concat(index[..(level - 1)].ToArray().Select(i => $"[{i}]"));
        return ApiProblemException.Validation(path, $"{path} {problem}.");
    }

    private string Describe() => $"nested arrays {shape} of numbers";
}
