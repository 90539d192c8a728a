using System.Buffers;
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Requests.Endpoints;

/// <summary>Reads a request body into memory, refusing anything over the limit with 413.</summary>
internal static class RequestBody
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

    private static ApiErrorException TooLarge(long limit) =>
        new(new ApiError(413, ErrorCodes.PayloadTooLarge, $"the request body is larger than --max-request-body-bytes ({limit} bytes)"));
}

/// <summary>The 202 answer to mode=async: {"job_id": "...", "status": "pending"}.</summary>
internal static class AsyncAccepted
{
    public static async Task WriteAsync(HttpContext context, string jobId)
    {
        using var buffer = new MemoryStream(96);
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("job_id", jobId);
            w.WriteString("status", "pending");
            w.WriteEndObject();
        }
        context.Response.StatusCode = 202;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
    }
}
