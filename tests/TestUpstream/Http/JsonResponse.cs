using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.TestUpstream.Http;

/// <summary>
/// Writes JSON answers with <see cref="Utf8JsonWriter"/> directly: no reflection, no serializer
/// contexts, and a Content-Length on every answer so clients see a plainly framed body.
/// </summary>
internal static class JsonResponse
{
    // Relaxed escaping keeps '+', '<', non-ASCII etc. readable; the consumers are tests, not browsers.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Serialize(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static Task WriteAsync(HttpContext context, Action<Utf8JsonWriter> write, int status = StatusCodes.Status200OK) =>
        Respond.BytesAsync(context, Serialize(write), "application/json", status);

    public static void WriteStringMap(this Utf8JsonWriter writer, string property, IEnumerable<KeyValuePair<string, string>> map)
    {
        writer.WriteStartObject(property);
        foreach (var (name, value) in map)
        {
            writer.WriteString(name, value);
        }
        writer.WriteEndObject();
    }
}
