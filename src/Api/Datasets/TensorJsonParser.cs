using System.Text.Json;
using ModelService.Api.Errors;
using ModelService.Api.Json;
using ModelService.Api.Limits;
using ModelService.Model.Data;

namespace ModelService.Api.Datasets;

/// <summary>Reads the JSON form of a tensor dataset, <c>{"name": "...", "x": [[[[...]]]], "y": [...]}</c>: x nested
/// [N, H, W, C], y nested [N] or [N, H, W], numbers with null for a missing value. Two passes, as the table readers make:
/// the first checks the nesting (regular, numbers only) and finds the shapes, counting values against
/// Limits:MaxTensorElements; the second fills arrays of exactly that size.</summary>
internal static class TensorJsonParser
{
    private const string Holds = "'x' and 'y'";
    private const string Expected = "'name', 'x' and 'y'";

    /// <summary>Whether a JSON upload is the tensor form: its top-level object has an "x" or "y" property (the table form
    /// has "columns" and "rows"). Malformed JSON is left to the table reader to report.</summary>
    public static bool IsTensorForm(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, JsonLimits.ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("x"u8) || reader.ValueTextEquals("y"u8))
                {
                    return true;
                }
                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return false;
    }

    public static (string? Name, TensorData Data) Parse(ReadOnlySpan<byte> body, LimitsOptions limits)
    {
        JsonLimits.EnsureUtf8(body);
        var x = new Nesting("x", [4], limits.MaxTensorElements);
        var y = new Nesting("y", [1, 3], limits.MaxTensorElements);
        var name = Read(body, x, y);
        var xShape = x.Shape() ?? throw ApiProblemException.Validation("x", "'x' is required: nested arrays [N, H, W, C].");
        var yShape = y.Shape() ?? throw ApiProblemException.Validation("y", "'y' is required: nested arrays [N] or [N, H, W].");
        var perPosition = yShape.Length == 3;
        if (yShape[0] != xShape[0] || (perPosition && (yShape[1] != xShape[1] || yShape[2] != xShape[2])))
        {
            throw ApiProblemException.Validation("y", $"'y' has shape [{string.Join(", ", yShape)}]; with 'x' of shape "
                + $"[{string.Join(", ", xShape)}] it must be [{xShape[0]}] (a value per sample) or [{xShape[0]}, {xShape[1]}, {xShape[2]}] "
                + "(a value per position).");
        }
        var xValues = new float[x.Count];
        var yValues = new double[y.Count];
        x.Fill = (i, v) => xValues[i] = (float)v;
        y.Fill = (i, v) => yValues[i] = v;
        Read(body, x.Again(), y.Again());
        return (name, TensorValues.Create(xShape[0], xShape[1], xShape[2], xShape[3], xValues, yValues, perPosition));
    }

    private static string? Read(ReadOnlySpan<byte> body, Nesting x, Nesting y)
    {
        var envelope = new JsonEnvelope(body, JsonLimits.ReaderOptions, Holds, Expected);
        string? name = null;
        while (envelope.NextProperty(out var property))
        {
            switch (property)
            {
                case "name":
                    name = envelope.OptionalString("name");
                    break;
                case "x":
                    x.Read(ref envelope.Reader);
                    break;
                case "y":
                    y.Read(ref envelope.Reader);
                    break;
                default:
                    throw envelope.Unknown(property);
            }
        }
        envelope.End();
        return name;
    }

    /// <summary>One nested array: its depth is set by the first number, each level's length by the first array at that
    /// level; any array that differs is a 400 naming its path (x[3][1]).</summary>
    private sealed class Nesting(string field, int[] depths, long maxElements)
    {
        private readonly int[] _lengths = [.. Enumerable.Repeat(-1, depths.Max())];
        private int _depth = -1;
        private bool _seen;

        public long Count { get; private set; }

        public Action<long, double>? Fill { get; set; }

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

        /// <summary>Ready for the second pass, which checks the same things again while filling.</summary>
        public Nesting Again()
        {
            Count = 0;
            return this;
        }

        public void Read(ref Utf8JsonReader reader)
        {
            if (_seen && Fill is null)
            {
                throw ApiProblemException.Validation(field, $"'{field}' is given twice.");
            }
            _seen = true;
            var maxDepth = depths.Max();
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
                            index[level - 1]++;
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
                        if (++Count > maxElements)
                        {
                            throw ApiProblemException.TooLarge(
                                $"'{field}' has more than {maxElements} values (Limits:MaxTensorElements).");
                        }
                        Fill?.Invoke(Count - 1, value);
                        index[level - 1]++;
                        break;
                    default:
                        throw Invalid(index, level + 1, "is not a number; values are numbers, or null for a missing one");
                }
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

        private string Describe() => field == "x"
            ? "nested arrays [N, H, W, C] of numbers"
            : "nested arrays [N] or [N, H, W] of numbers";
    }
}
