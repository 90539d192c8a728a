// Request headers and form fields as the CurlRequest object writes them: one JSON object of strings in
// the caller's order (a name given twice stays twice).
using System.Text.Json;
using System.Text.Json.Serialization;

namespace HoodyCurl.Requests.Model;

public sealed class HeaderObjectConverter : JsonConverter<IReadOnlyList<HeaderEntry>>
{
    public override IReadOnlyList<HeaderEntry> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("expected an object of strings");
        var entries = new List<HeaderEntry>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            entries.Add(new HeaderEntry(name, reader.GetString() ?? throw new JsonException($"'{name}' must be a string")));
        }
        return entries;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<HeaderEntry> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var h in value) writer.WriteString(h.Name, h.Value);
        writer.WriteEndObject();
    }
}
