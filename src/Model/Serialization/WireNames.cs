using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelService.Model.Serialization;

/// <summary>The wire names of an enum: the <see cref="JsonStringEnumMemberNameAttribute"/> on each member (the member's own
/// name where there is none). The attributes are the enum's only name table; JSON, stores and messages all read them
/// through this class or <see cref="WireEnumConverter{TEnum}"/>.</summary>
public static class WireNames
{
    /// <summary>Every wire name of <typeparamref name="TEnum"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All<TEnum>()
        where TEnum : struct, Enum => Table<TEnum>.Names;

    /// <summary>The wire name of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a declared member.</exception>
    public static string Of<TEnum>(TEnum value)
        where TEnum : struct, Enum
    {
        foreach (var (member, name) in Table<TEnum>.Members)
        {
            if (EqualityComparer<TEnum>.Default.Equals(member, value))
            {
                return name;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(value), value, $"Not a declared {typeof(TEnum).Name}.");
    }

    /// <summary>Parses a wire name (exact and case-sensitive, as on the wire).</summary>
    public static bool TryParse<TEnum>(string? name, out TEnum value)
        where TEnum : struct, Enum
    {
        foreach (var (member, wire) in Table<TEnum>.Members)
        {
            if (string.Equals(wire, name, StringComparison.Ordinal))
            {
                value = member;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>Parses a wire name that a store wrote.</summary>
    /// <exception cref="FormatException">The name is not a wire name of <typeparamref name="TEnum"/>.</exception>
    public static TEnum Parse<TEnum>(string name)
        where TEnum : struct, Enum => TryParse<TEnum>(name, out var value)
        ? value
        : throw new FormatException($"'{name}' is not a {typeof(TEnum).Name}; expected one of: {string.Join(", ", All<TEnum>())}.");

    private static class Table<TEnum>
        where TEnum : struct, Enum
    {
        public static readonly (TEnum Value, string Name)[] Members =
        [
            .. typeof(TEnum).GetFields(BindingFlags.Public | BindingFlags.Static).Select(field =>
                ((TEnum)field.GetValue(null)!, field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? field.Name)),
        ];

        public static readonly IReadOnlyList<string> Names = Array.AsReadOnly(Members.Select(n => n.Name).ToArray());
    }
}

/// <summary>Reads and writes <typeparamref name="TEnum"/> as its wire names with <see cref="JsonStringEnumConverter{TEnum}"/>
/// (no integers), and reports an unknown name as <see cref="UnknownWireNameException"/> so that a caller can tell the
/// client which names are allowed without reading the exception's text.</summary>
/// <typeparam name="TEnum">The enum.</typeparam>
public sealed class WireEnumConverter<TEnum> : JsonConverterFactory
    where TEnum : struct, Enum
{
    private static readonly JsonStringEnumConverter<TEnum> s_strings = new(namingPolicy: null, allowIntegerValues: false);

    /// <inheritdoc />
    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(TEnum);

    /// <inheritdoc />
    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        new Checked((JsonConverter<TEnum>)s_strings.CreateConverter(typeToConvert, options)!);

    private sealed class Checked(JsonConverter<TEnum> strings) : JsonConverter<TEnum>
    {
        public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var given = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            try
            {
                return strings.Read(ref reader, typeToConvert, options);
            }
            catch (JsonException)
            {
                // Not chained: the serializer's error says no more than this one, and a JsonException inside another
                // reads as malformed JSON to a handler.
                throw new UnknownWireNameException(given, WireNames.All<TEnum>());
            }
        }

        public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options) =>
            strings.Write(writer, value, options);
    }
}

/// <summary>A JSON value that is not one of an enum's wire names; <see cref="JsonException.Path"/> names the field.</summary>
public sealed class UnknownWireNameException : JsonException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="given">The string that was sent (null when the value was not a string).</param>
    /// <param name="allowed">The wire names the field takes.</param>
    /// <param name="inner">The serializer's own error.</param>
    public UnknownWireNameException(string? given, IReadOnlyList<string> allowed, Exception? inner = null)
        : base(given is null ? $"Expected one of: {string.Join(", ", allowed)}." : $"Unknown value '{given}'; use one of: {string.Join(", ", allowed)}.", inner)
    {
        Given = given;
        Allowed = allowed;
    }

    /// <summary>The string that was sent, or null when the value was not a string.</summary>
    public string? Given { get; }

    /// <summary>The wire names the field takes.</summary>
    public IReadOnlyList<string> Allowed { get; }
}
