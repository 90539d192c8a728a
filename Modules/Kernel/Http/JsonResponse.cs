// Writes a JSON answer with its Content-Length: a source-generated type's JSON (no reflection: the AOT
// binary has none), or what a writer callback builds (envelopes that stream or embed raw bodies).
using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Kernel.Http;

public static class JsonResponse
{
    // API JSON, never embedded in HTML: keep caller text readable ("'", "<", non-ASCII) rather than \u-escaped.
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Options)) write(writer);
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="value"/> through its source-generated type info.</summary>
    public static Task WriteAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> info) =>
        WriteAsync(context, status, w => JsonSerializer.Serialize(w, value, info));

    /// <summary>The UTF-8 JSON of <paramref name="value"/>, escaped as the API answers are.</summary>
    public static byte[] ToUtf8<T>(T value, JsonTypeInfo<T> info)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options)) JsonSerializer.Serialize(writer, value, info);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Streams a JSON answer of unknown length (chunked): <paramref name="write"/> gets the writer and a
    /// flush to await between items, which sends what is pending once it passes 64 KiB. A list of any
    /// size then costs the sidecar one item and one flush window, not the whole answer.
    /// </summary>
    public static async Task StreamAsync(HttpContext context, int status, Func<Utf8JsonWriter, Func<ValueTask>, Task> write)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        var output = response.BodyWriter;
        await using var writer = new Utf8JsonWriter(output, Options);
        async ValueTask Flush()
        {
            if (writer.BytesPending < 64 * 1024) return;
            writer.Flush();
            await output.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
        await write(writer, Flush).ConfigureAwait(false);
        writer.Flush();
        await output.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
