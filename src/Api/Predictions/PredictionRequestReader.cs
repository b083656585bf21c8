using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using ModelService.Api.Errors;
using ModelService.Api.Json;
using csFastFloat;
using ModelService.Model.Data;
using ModelService.Model.Inference;
using ModelService.Model.Preprocessing;

namespace ModelService.Api.Predictions;

/// <summary>Reads <c>{"records": [...]}</c> or <c>{"instances": [...]}</c> (and an optional <c>modelId</c>, in any
/// position) straight from UTF-8 into <see cref="FeatureValue"/> rows: no per-row dictionaries or DOM.</summary>
internal static class PredictionRequestReader
{
    public const string Records = "records";
    public const string Instances = "instances";

    // The UTF-8 names and categories of a loaded model, built once instead of on every request.
    private static readonly ConditionalWeakTable<Predictor, FeatureLookup> s_lookups = [];

    /// <summary>The top-level shape: where the rows start, which form they take, the model id if any, and, when the
    /// envelope was read with slices, where the rows array can be cut for parsing on several cores.</summary>
    public readonly record struct Envelope(string Form, int RowsStart, string? ModelId, RowsSplit? Split = null);

    /// <summary>Proposed cuts of the rows array (<see cref="JsonArraySplitter"/>) with the reader state just after its
    /// <c>[</c>, from which a reader can start at the first element of any slice. The rest of the envelope was read
    /// from the proposed closing bracket on, so the envelope holds only once the slices have proved the cuts.</summary>
    public sealed record RowsSplit(JsonReaderState State, int ElementDepth, JsonArraySplitter.Split Cuts);

    /// <summary>Reads the envelope. With <paramref name="slices"/> above 1 the rows array is not read here: cut points
    /// are proposed (see <see cref="RowsSplit"/>) and reading goes on after the proposed end of the array. Any error on
    /// that path is reported by reading again the ordinary way, so errors are the same either way.</summary>
    public static Envelope ReadEnvelope(ReadOnlySpan<byte> json, int slices = 1)
    {
        JsonLimits.EnsureUtf8(json);
        if (slices > 1)
        {
            try
            {
                return Read(json, slices);
            }
            catch (Exception e) when (e is JsonException or ApiProblemException)
            {
                // Read again below, rows included, for the error a sequential reader reports.
            }
        }
        return Read(json, 1);
    }

    private static Envelope Read(ReadOnlySpan<byte> json, int slices)
    {
        var envelope = new JsonEnvelope(json, JsonLimits.ReaderOptions, "'records' or 'instances'",
            "'records' or 'instances' and optionally 'modelId'");
        string? form = null, modelId = null;
        var start = -1;
        RowsSplit? split = null;
        while (envelope.NextProperty(out var property))
        {
            switch (property)
            {
                case Records or Instances when form is not null:
                    throw ApiProblemException.Validation(property, "Give either 'records' or 'instances', not both.");
                case Records or Instances:
                    form = property;
                    start = (int)envelope.Reader.TokenStartIndex;
                    if (slices > 1 && envelope.Reader.TokenType == JsonTokenType.StartArray
                        && JsonArraySplitter.TrySplit(json, start, slices) is { } cuts)
                    {
                        // Carry on after the proposed ']' in the state just after the '[': the rows are read later, in slices.
                        split = new RowsSplit(envelope.Reader.CurrentState, envelope.Reader.CurrentDepth + 1, cuts);
                        envelope.Reader = new Utf8JsonReader(json[cuts.Close..], isFinalBlock: true, envelope.Reader.CurrentState);
                        envelope.Reader.Read();
                    }
                    else
                    {
                        envelope.Reader.Skip();
                    }
                    break;
                case "modelId":
                    modelId = envelope.OptionalString("modelId");
                    break;
                default:
                    throw envelope.Unknown(property);
            }
        }
        envelope.End();
        if (form is null)
        {
            throw ApiProblemException.Validation("body", "Give the rows to score in 'records' (named values) or 'instances' (values in feature order).");
        }
        return new Envelope(form, start, modelId, split);
    }

    /// <summary>Reads the whole rows array that starts at <see cref="Envelope.RowsStart"/>.</summary>
    public static FeatureRows ReadRows(ReadOnlySpan<byte> json, Envelope envelope, Predictor model, int maxRows)
    {
        var reader = new Utf8JsonReader(json[envelope.RowsStart..], JsonLimits.ReaderOptions);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw ApiProblemException.Validation(envelope.Form, $"'{envelope.Form}' must be an array of rows.");
        }
        var rows = Read(ref reader, envelope.Form, model, maxRows, slice: null)!;
        if (rows.RowCount == 0)
        {
            rows.Dispose();
            throw ApiProblemException.Validation(envelope.Form, $"'{envelope.Form}' is empty; send at least one row.");
        }
        return rows;
    }

    /// <summary>Reads the rows of one slice of a split rows array: whole elements separated by commas, as cut by
    /// <see cref="JsonArraySplitter"/>. Returns null when the slice does not hold exactly that (the scan was misled by
    /// malformed JSON); throws as <see cref="ReadRows"/> does for a bad value. Row indexes in errors are the slice's own,
    /// so callers report errors by reading the whole request with <see cref="ReadRows"/> instead.</summary>
    public static FeatureRows? TryReadSlice(ReadOnlySpan<byte> slice, RowsSplit split, string form, Predictor model, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(split);
        var reader = new Utf8JsonReader(slice, isFinalBlock: false, split.State);
        return Read(ref reader, form, model, maxRows, (split, slice.TrimEnd(" \t\r\n"u8).Length));
    }

    /// <summary>The one grammar of the rows array, from just after its <c>[</c>: to its <c>]</c>, or for a
    /// <paramref name="slice"/>, to the end of the slice's bytes. A slice gives null unless it holds at least one element
    /// and each element ends at the depth of an element, the last one at the slice's end.</summary>
    private static FeatureRows? Read(ref Utf8JsonReader reader, string form, Predictor model, int maxRows, (RowsSplit Split, int Length)? slice)
    {
        var features = model.Manifest.Features;
        var lookup = Lookup(model);
        var names = form == Records ? lookup.Names : null;
        var elementEnd = names is null ? JsonTokenType.EndArray : JsonTokenType.EndObject;
        var buffer = new RowBuffer(features.Count);
        long end = 0;
        try
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (buffer.RowCount == maxRows)
                {
                    throw new ApiProblemException(StatusCodes.Status413PayloadTooLarge, "Too many rows",
                        $"At most {maxRows} rows can be scored in one request (Predictions:MaxRows).", form);
                }
                var row = buffer.AddRow();
                if (names is not null)
                {
                    ReadRecord(ref reader, row, buffer.RowCount - 1, features, names, lookup.Categories);
                }
                else
                {
                    ReadInstance(ref reader, row, buffer.RowCount - 1, features, lookup.Categories);
                }
                if (slice is { } s && (reader.TokenType != elementEnd || reader.CurrentDepth != s.Split.ElementDepth))
                {
                    buffer.Dispose();
                    return null;
                }
                end = reader.BytesConsumed;
            }
            if (slice is { } whole && (buffer.RowCount == 0 || end != whole.Length))
            {
                // Empty, closing the array or followed by more: the proposed cuts were not between elements.
                buffer.Dispose();
                return null;
            }
            return buffer.Detach();
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private static FeatureLookup Lookup(Predictor model) => s_lookups.GetValue(model, static m => new FeatureLookup(m.Manifest.Features));

    private static void ReadRecord(ref Utf8JsonReader reader, Span<FeatureValue> row, int index, IReadOnlyList<FeatureTransform> features,
        byte[][] names, (byte[] Bytes, string Label)[]?[] categories)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw ApiProblemException.Validation($"records[{index}]", $"Record {index} must be an object of feature values.");
        }
        Span<bool> seen = stackalloc bool[Math.Min(features.Count, 1024)];
        var expected = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // Records usually list features in the same order, so the next feature is tried first.
            var column = expected < names.Length && reader.ValueTextEquals(names[expected]) ? expected : Find(ref reader, names);
            if (column < 0)
            {
                var name = reader.GetString();
                throw ApiProblemException.Validation($"records[{index}].{name}",
                    $"Record {index}: the model has no feature '{name}'; its features are: {string.Join(", ", features.Select(f => f.Name))}.");
            }
            if (column < seen.Length)
            {
                if (seen[column])
                {
                    throw ApiProblemException.Validation($"records[{index}].{features[column].Name}",
                        $"Record {index} gives '{features[column].Name}' twice.");
                }
                seen[column] = true;
            }
            reader.Read();
            row[column] = ReadValue(ref reader, features[column], categories[column], index, column, records: true);
            expected = column + 1;
        }
    }

    private static void ReadInstance(ref Utf8JsonReader reader, Span<FeatureValue> row, int index, IReadOnlyList<FeatureTransform> features,
        (byte[] Bytes, string Label)[]?[] categories)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw ApiProblemException.Validation($"instances[{index}]", $"Instance {index} must be an array of {features.Count} values.");
        }
        var column = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (column == features.Count)
            {
                throw WrongWidth(index, column + 1, features);
            }
            row[column] = ReadValue(ref reader, features[column], categories[column], index, column, records: false);
            column++;
        }
        if (column != features.Count)
        {
            throw WrongWidth(index, column, features);
        }
    }

    private static FeatureValue ReadValue(ref Utf8JsonReader reader, FeatureTransform feature, (byte[] Bytes, string Label)[]? categories,
        int index, int column, bool records)
    {
        // The field name is built only for an error, not once per value read.
        string Field() => records ? $"records[{index}].{feature.Name}" : $"instances[{index}][{column}]";

        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return FeatureValue.Missing;
            case JsonTokenType.Number when feature.Type == ColumnType.Numeric:
                // The reader has checked the JSON number grammar; fast_float's parser (csFastFloat) rounds correctly, as
                // the reader's own conversion does, at about twice its speed. A number token is never escaped.
                if (!FastDoubleParser.TryParseDouble(reader.ValueSpan, out var consumed, out var number) || consumed != reader.ValueSpan.Length
                    || !double.IsFinite(number))
                {
                    throw ApiProblemException.Validation(Field(), $"The value of '{feature.Name}' is out of range.");
                }
                return FeatureValue.FromNumber(number);
            case JsonTokenType.String when feature.Type == ColumnType.Numeric:
                throw ApiProblemException.Validation(Field(),
                    $"'{feature.Name}' is numeric: send a JSON number, not a string (got \"{reader.GetString()}\").");
            case JsonTokenType.String or JsonTokenType.Number:
                // A categorical value: reuse the model's own string for a known category; a number counts by its text.
                foreach (var (bytes, label) in categories ?? [])
                {
                    if (reader.TokenType == JsonTokenType.String ? reader.ValueTextEquals(bytes) : reader.ValueSpan.SequenceEqual(bytes))
                    {
                        return FeatureValue.FromLabel(label);
                    }
                }
                return FeatureValue.FromLabel(reader.TokenType == JsonTokenType.String ? reader.GetString()! : Encoding.UTF8.GetString(reader.ValueSpan));
            default:
                throw ApiProblemException.Validation(Field(),
                    $"'{feature.Name}' takes {(feature.Type == ColumnType.Numeric ? "a number" : "a string")} or null; got {reader.TokenType}.");
        }
    }

    private static int Find(ref Utf8JsonReader reader, byte[][] names)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (reader.ValueTextEquals(names[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private static ApiProblemException WrongWidth(int index, int count, IReadOnlyList<FeatureTransform> features) =>
        ApiProblemException.Validation($"instances[{index}]",
            $"Instance {index} has {count} values; the model takes {features.Count}: {string.Join(", ", features.Select(f => f.Name))}.");

    private sealed class FeatureLookup(IReadOnlyList<FeatureTransform> features)
    {
        public byte[][] Names { get; } = features.Select(f => Encoding.UTF8.GetBytes(f.Name)).ToArray();

        public (byte[] Bytes, string Label)[]?[] Categories { get; } =
            features.Select(f => f.Categories?.Select(c => (Bytes: Encoding.UTF8.GetBytes(c), Label: c)).ToArray()).ToArray();
    }
}
