using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ModelService.Api.Json;

/// <summary>Marks a request body whose properties read JSON <c>null</c> as "use the default": clients generated from the
/// OpenAPI document often send every optional field, unset ones as null.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class NullMeansDefaultAttribute : Attribute;

/// <summary>A contract modifier that gives each property of a <see cref="NullMeansDefaultAttribute"/> type the value a
/// new instance has when the JSON says null, so the defaults stay written once, in the type's initialisers.</summary>
internal static class NullMeansDefault
{
    public static void Apply(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || info.CreateObject is null
            || info.Type.GetCustomAttribute<NullMeansDefaultAttribute>() is null)
        {
            return;
        }
        var fresh = info.CreateObject();
        foreach (var property in info.Properties.Where(p => p.Get is not null && p.Set is not null))
        {
            property.CustomConverter = (JsonConverter)Activator.CreateInstance(typeof(NullAsConverter<>).MakeGenericType(property.PropertyType),
                property.Get!(fresh), ConverterOf(property, info.Options))!;
        }
    }

    /// <summary>The converter the property would use: its own, its type's [JsonConverter] (an enum's wire names), or the
    /// options' converter for its type, with a factory asked for the concrete converter.</summary>
    private static JsonConverter ConverterOf(JsonPropertyInfo property, JsonSerializerOptions options)
    {
        var converter = property.CustomConverter
            ?? (property.PropertyType.GetCustomAttribute<JsonConverterAttribute>()?.ConverterType is { } type
                ? (JsonConverter)Activator.CreateInstance(type)!
                : options.GetTypeInfo(property.PropertyType).Converter);
        return converter is JsonConverterFactory factory ? factory.CreateConverter(property.PropertyType, options)! : converter;
    }

    private sealed class NullAsConverter<T>(T value, JsonConverter inner) : JsonConverter<T>
    {
        private readonly JsonConverter<T> _inner = (JsonConverter<T>)inner;

        public override bool HandleNull => true;

        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? value : _inner.Read(ref reader, typeToConvert, options);

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                _inner.Write(writer, value, options);
            }
        }
    }
}
