// Writes a JSON answer built with Utf8JsonWriter (no reflection: the AOT binary has none), with its
// Content-Length.
using System.Buffers;
using System.Text.Json;
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
}
