// Converters the modules' source-generated JSON contexts share, for the few wire shapes that are not a
// plain property-per-field object: embedded JSON text, ordered string maps that may repeat a key, and
// bodies shown as arrays of byte values. All are attribute-selected, so they stay AOT- and trim-clean.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace HoodyCurl.Kernel.Json;

/// <summary>A string property that holds JSON text: written as that JSON (not quoted), read back as the raw text of any value.</summary>
public sealed class RawJsonConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.GetRawText();
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value, skipInputValidation: true);
}

/// <summary>An ordered list of string pairs written as one JSON object (first-seen order, repeats kept).</summary>
public sealed class StringPairsConverter : JsonConverter<IReadOnlyList<KeyValuePair<string, string>>>
{
    public override IReadOnlyList<KeyValuePair<string, string>> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("expected an object of strings");
        var pairs = new List<KeyValuePair<string, string>>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            pairs.Add(new(name, reader.GetString() ?? throw new JsonException($"'{name}' must be a string")));
        }
        return pairs;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<KeyValuePair<string, string>> value, JsonSerializerOptions options) =>
        WriteObject(writer, value);

    /// <summary>Writes the pairs as one JSON object (also for an answer that is just such a map).</summary>
    public static void WriteObject(Utf8JsonWriter writer, IReadOnlyList<KeyValuePair<string, string>> value)
    {
        writer.WriteStartObject();
        foreach (var (name, text) in value) writer.WriteString(name, text);
        writer.WriteEndObject();
    }
}

/// <summary>Bytes written as a JSON array of numbers 0–255 (the job's inline `body`), not base64.</summary>
public sealed class ByteNumbersConverter : JsonConverter<byte[]>
{
    public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected an array of bytes");
        var bytes = new List<byte>();
        while (reader.Read() && reader.TokenType == JsonTokenType.Number) bytes.Add(reader.GetByte());
        return [.. bytes];
    }

    public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var b in value) writer.WriteNumberValue(b);
        writer.WriteEndArray();
    }
}

/// <summary>An optional enum written and read as its lower-case name ("basic", "transparent").</summary>
public sealed class LowerEnumConverter<T> : JsonConverter<T?> where T : struct, Enum
{
    public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        var text = reader.GetString();
        return text is { Length: > 0 } && !char.IsAsciiDigit(text[0]) && Enum.TryParse<T>(text, ignoreCase: true, out var value)
            ? value
            : throw new JsonException($"'{text}' is not a known {typeof(T).Name}");
    }

    public override void Write(Utf8JsonWriter writer, T? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteStringValue(v.ToString().ToLowerInvariant());
        else writer.WriteNullValue();
    }
}

/// <summary>An enum written and read as its lower-case name ("query", "header").</summary>
public sealed class LowerEnumValueConverter<T> : JsonConverter<T> where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        return text is { Length: > 0 } && !char.IsAsciiDigit(text[0]) && Enum.TryParse<T>(text, ignoreCase: true, out var value)
            ? value
            : throw new JsonException($"'{text}' is not a known {typeof(T).Name}");
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString().ToLowerInvariant());
}
