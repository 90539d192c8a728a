// json mode: the whole upstream response in one flat JSON object with the SDK field set
// (decisions D1, D4; rest.md §3.5a). The body is buffered, within --max-response-buffer-bytes.
using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Requests.Endpoints;

internal static class JsonEnvelope
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext context, UpstreamResponse upstream, string requestId, long limit,
        CancellationToken waitToken, Func<ApiError> waitLimit)
    {
        var body = new ArrayBufferWriter<byte>(upstream.ContentLength is { } n && n <= limit ? (int)Math.Max(n, 256) : 16 * 1024);
        var tooLarge = false;
        try
        {
            while (true)
            {
                var read = await upstream.Body.ReadAsync(waitToken).ConfigureAwait(false);
                if (body.WrittenCount + read.Buffer.Length > limit)
                {
                    tooLarge = true;
                    upstream.Abort();
                    break;
                }
                foreach (var segment in read.Buffer) body.Write(segment.Span);
                upstream.Body.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) break;
            }
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            upstream.Abort();
            throw new ApiErrorException(waitLimit());
        }
        catch (OperationCanceledException)
        {
            upstream.Abort();
            return;
        }
        catch (ApiErrorException)
        {
            // The transfer failed mid-body: the completion carries the real error (timeout, reset, …).
        }
        if (tooLarge)
        {
            throw new ApiErrorException(new ApiError(502, ErrorCodes.ResponseTooLarge,
                $"the upstream body is larger than --max-response-buffer-bytes ({limit} bytes); use response=transparent, save or mode=async"));
        }

        var result = await upstream.Completion.ConfigureAwait(false);
        if (result.Error is { } transferError) throw new ApiErrorException(transferError);
        var bytes = Write(upstream, result, body.WrittenSpan);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.WrittenCount;
        context.Response.Headers["X-Request-Id"] = requestId;
        await context.Response.Body.WriteAsync(bytes.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The envelope; <paramref name="jobId"/> fills `job_id` and <paramref name="extra"/> adds fields at the end.</summary>
    internal static ArrayBufferWriter<byte> Write(UpstreamResponse upstream, TransferResult result, ReadOnlySpan<byte> body,
        string? jobId = null, Action<Utf8JsonWriter>? extra = null)
    {
        var output = new ArrayBufferWriter<byte>(body.Length * 2 + 1024);
        using var w = new Utf8JsonWriter(output, WriterOptions);
        var info = result.Info;
        var isText = System.Text.Unicode.Utf8.IsValid(body);
        w.WriteStartObject();
        w.WriteBoolean("success", result.Ok && upstream.StatusCode < 400);
        if (jobId is null) w.WriteNull("job_id");
        else w.WriteString("job_id", jobId);
        w.WriteNumber("status_code", upstream.StatusCode);
        // The body below is what libcurl decoded (compressed: true): its Content-Encoding and the encoded
        // Content-Length no longer describe it, so they are dropped, as transparent mode does.
        var headers = upstream.BodyDecoded ? ResponseHeaders.WithoutEncoding(upstream.Headers) : upstream.Headers;
        ResponseHeaders.WriteMap(w, "headers", headers);
        ResponseHeaders.WriteRaw(w, "raw_headers", headers);
        if (isText) w.WriteString("body", body);
        else w.WriteBase64String("body", body);
        w.WriteBoolean("is_binary", !isText);
        w.WriteStartObject("timing");
        w.WriteNumber("total", info.Total);
        w.WriteNumber("namelookup", info.NameLookup);
        w.WriteNumber("connect", info.Connect);
        w.WriteNumber("pretransfer", info.PreTransfer);
        w.WriteNumber("starttransfer", info.StartTransfer);
        w.WriteNumber("redirect", info.Redirect);
        w.WriteEndObject();
        w.WriteStartObject("metadata");
        w.WriteString("effective_url", info.EffectiveUrl ?? upstream.EffectiveUrl);
        w.WriteNumber("redirect_count", info.RedirectCount);
        w.WriteNumber("size_download", info.SizeDownload);
        w.WriteNumber("size_upload", info.SizeUpload);
        w.WriteNumber("speed_download", info.SpeedDownload);
        w.WriteNumber("speed_upload", info.SpeedUpload);
        if ((info.ContentType ?? upstream.ContentType) is { } contentType) w.WriteString("content_type", contentType);
        else w.WriteNull("content_type");
        if (info.PrimaryIp is { } ip) w.WriteString("primary_ip", ip);
        w.WriteNumber("attempts", upstream.Attempts);
        w.WriteEndObject();
        if (upstream.CacheStatus is { } cache) w.WriteString("cache", cache);
        extra?.Invoke(w);
        w.WriteEndObject();
        w.Flush();
        return output;
    }
}
