// Reads a request body into memory, refusing anything over the limit with 413 PAYLOAD_TOO_LARGE
// (whether the client declared a Content-Length or sent it chunked).
using System.Buffers;
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Kernel.Http;

public static class RequestBody
{
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpContext context, long limit)
    {
        if (context.Request.ContentLength is { } declared && declared > limit) throw TooLarge(limit);
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(context.Request.ContentLength ?? 4096, limit) + 1);
        var reader = context.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            if (buffer.WrittenCount + result.Buffer.Length > limit)
            {
                reader.AdvanceTo(result.Buffer.End);
                throw TooLarge(limit);
            }
            foreach (var segment in result.Buffer) buffer.Write(segment.Span);
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }
        return buffer.WrittenMemory;
    }

    /// <summary>Reads the body as one JSON document: 413 over <paramref name="limit"/> bytes, 400 when not JSON.</summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpContext context, long limit, int maxDepth)
    {
        var body = await ReadAsync(context, limit).ConfigureAwait(false);
        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth });
        }
        catch (JsonException e)
        {
            throw new ApiErrorException(ApiError.Validation($"request body is not valid JSON at {JsonErrors.Describe(e)}"));
        }
    }

    private static ApiErrorException TooLarge(long limit) =>
        new(new ApiError(413, ErrorCodes.PayloadTooLarge, $"the request body is larger than --max-request-body-bytes ({limit} bytes)"));
}
