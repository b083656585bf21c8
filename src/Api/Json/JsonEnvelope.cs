using System.Text.Json;
using ModelService.Api.Errors;

namespace ModelService.Api.Json;

/// <summary>
/// The top level that the hand-read JSON bodies (predictions, dataset uploads) share: one object whose properties,
/// in any order, the caller reads from <see cref="Reader"/> by name. Not an object, an unknown property or anything
/// after the object is a 400 naming the body or the property.
/// </summary>
/// <param name="json">The body, already checked to be UTF-8 (<see cref="JsonLimits.EnsureUtf8"/>).</param>
/// <param name="options">Reader options: depth, comments.</param>
/// <param name="holds">What the object must hold, for errors ("'columns' and 'rows'").</param>
/// <param name="expected">The properties it may hold, for errors about an unknown one.</param>
internal ref struct JsonEnvelope(ReadOnlySpan<byte> json, JsonReaderOptions options, string holds, string expected)
{
    private bool _started;

    /// <summary>The reader, on the current property's value; a caller may read the value or replace the reader with
    /// one that carries on after the value.</summary>
    public Utf8JsonReader Reader = new(json, options);

    /// <summary>Moves to the next property's value and names the property; false at the end of the object.</summary>
    public bool NextProperty(out string name)
    {
        if (!_started)
        {
            _started = true;
            if (!Reader.Read() || Reader.TokenType != JsonTokenType.StartObject)
            {
                throw ApiProblemException.Validation("body", $"The body must be a JSON object with {holds}.");
            }
        }
        if (!Reader.Read() || Reader.TokenType != JsonTokenType.PropertyName)
        {
            name = "";
            return false;
        }
        name = Reader.GetString()!;
        Reader.Read();
        return true;
    }

    /// <summary>Checks that the object has ended and nothing follows it.</summary>
    public readonly void End()
    {
        var reader = Reader;
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw ApiProblemException.Validation("body", "The body must be a single JSON object.");
        }
    }

    public readonly ApiProblemException Unknown(string property) =>
        ApiProblemException.Validation(property, $"Unknown property '{property}'; expected {expected}.");

    /// <summary>The current value as an optional string: a string or null, else a 400 naming <paramref name="field"/>.</summary>
    public readonly string? OptionalString(string field) => Reader.TokenType switch
    {
        JsonTokenType.String => Reader.GetString(),
        JsonTokenType.Null => null,
        _ => throw ApiProblemException.Validation(field, $"'{field}' must be a string."),
    };
}
