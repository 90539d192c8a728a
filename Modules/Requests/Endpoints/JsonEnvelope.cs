// json mode: the whole upstream response in one flat JSON object with the SDK field set
// (docs/api.md D1, D4; docs/api.md (Executing requests)). The body is buffered within --max-response-buffer-bytes, and the
// answer streamed; a body that is not printable UTF-8 text is sent as base64 with is_binary. The chunks
// are reserved from the process-wide --max-buffered-bytes budget as they are rented.
using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Memory;
using HoodyCurl.Requests.Model;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Requests.Endpoints;

internal static class JsonEnvelope
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Size of one pooled body chunk: below the large-object heap's 85,000-byte threshold.</summary>
    private const int ChunkBytes = 64 * 1024;

    /// <summary>
    /// Buffers the body (pooled 64 KiB chunks, never one growing array on the large-object heap), then
    /// streams the envelope to the caller. What the sidecar holds stays within --max-response-buffer-bytes:
    /// the body as received, and the body as encoded in the answer (text JSON-escaped, or base64 when it is
    /// not printable UTF-8 text) are each checked against it before a byte is written, and the answer
    /// itself is never assembled in memory (issue 16 item 5: 60 MiB of zero bytes, escaped as \u0000,
    /// had become a 377 MB answer built in one buffer).
    /// </summary>
    public static async Task WriteAsync(HttpContext context, UpstreamResponse upstream, string requestId, long limit,
        BufferBudget budget, CancellationToken waitToken, Func<ApiError> waitLimit)
    {
        var chunks = new List<byte[]>();
        long length = 0;
        // A body that ends within HeldBytes stays in the transfer's pipe, unconsumed, and is written from there:
        // no pooled 64 KiB chunk and no copy for the common small answer (the rent missed ArrayPool's per-core
        // cache at 256 callers and allocated; issue 13). HeldBytes is far below the pipe's pause threshold, so
        // holding it never stalls the transfer.
        ReadOnlySequence<byte> held = default;
        var holding = false;
        using var lease = budget.OpenLease();
        try
        {
            var tooLarge = false;
            var overBudget = false;
            try
            {
                while (true)
                {
                    var read = await upstream.Body.ReadAsync(waitToken).ConfigureAwait(false);
                    if (length + read.Buffer.Length > limit)
                    {
                        tooLarge = true;
                        upstream.Abort();
                        break;
                    }
                    if (chunks.Count == 0 && read.Buffer.Length <= HeldBytes)
                    {
                        if (read.IsCompleted)
                        {
                            held = read.Buffer; // consumed once written (below)
                            holding = true;
                            break;
                        }
                        upstream.Body.AdvanceTo(read.Buffer.Start, read.Buffer.End); // wait for more, consume nothing
                        continue;
                    }
                    // Every chunk this read will rent is reserved from --max-buffered-bytes first: when the
                    // process-wide budget is spent the call is refused (503 QUEUE_FULL), not the process killed.
                    var needed = ChunksFor(length + read.Buffer.Length) * (long)ChunkBytes - lease.Held;
                    if (needed > 0 && !lease.TryGrow(needed))
                    {
                        overBudget = true;
                        upstream.Abort();
                        break;
                    }
                    foreach (var segment in read.Buffer) Append(chunks, ref length, segment.Span);
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
            if (tooLarge) throw TooLarge(limit, "body");
            if (overBudget) throw new ApiErrorException(budget.Exhausted());

            var result = await upstream.Completion.ConfigureAwait(false);
            if (result.Error is { } transferError) throw new ApiErrorException(transferError);

            var body = holding ? new BodyParts(held) : new BodyParts(chunks, length);
            var isText = body.IsPrintableText();
            var encoded = isText ? body.EscapedLength() : (body.Length + 2) / 3 * 4;
            if (encoded > limit) throw TooLarge(limit, isText ? "JSON-escaped body" : "base64 body");

            var response = context.Response;
            response.StatusCode = 200;
            response.ContentType = "application/json";
            response.Headers["X-Request-Id"] = requestId;
            var output = response.BodyWriter;
            await using var w = new Utf8JsonWriter(output, WriterOptions);
            WriteHead(w, upstream, result, requestId); // docs/api.md D10: a sync request's id is its envelope's job_id
            w.WritePropertyName("body");
            var partIndex = 0;
            var partCount = body.Count;
            foreach (var part in body.Parts)
            {
                var last = ++partIndex == partCount;
                if (isText) w.WriteStringValueSegment(part.Span, last);
                else w.WriteBase64StringSegment(part.Span, last);
                if (w.BytesPending >= ChunkBytes)
                {
                    w.Flush();
                    await output.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                }
            }
            if (partCount == 0) w.WriteStringValue(""u8);
            if (holding)
            {
                upstream.Body.AdvanceTo(held.End); // the writer copied the bytes
                holding = false;
            }
            WriteTail(w, upstream, result, !isText, null);
            w.Flush();
            await output.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            if (holding) upstream.Body.AdvanceTo(held.End);
            foreach (var chunk in chunks) ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Bodies up to this size are written from the transfer's pipe without being copied out first.</summary>
    private const int HeldBytes = 64 * 1024;

    private static ApiErrorException TooLarge(long limit, string what) => new(new ApiError(502, ErrorCodes.ResponseTooLarge,
        $"the upstream {what} is larger than --max-response-buffer-bytes ({limit} bytes); use response=transparent, save or mode=async"));

    private static long ChunksFor(long bytes) => (bytes + ChunkBytes - 1) / ChunkBytes;

    private static void Append(List<byte[]> chunks, ref long length, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var used = (int)(length % ChunkBytes);
            if (used == 0) chunks.Add(ArrayPool<byte>.Shared.Rent(ChunkBytes));
            var take = Math.Min(ChunkBytes - used, data.Length);
            data[..take].CopyTo(chunks[^1].AsSpan(used));
            data = data[take..];
            length += take;
        }
    }

    /// <summary>The body as a list of parts: full chunks of <see cref="ChunkBytes"/> (the last one partly filled), or the pipe's segments.</summary>
    private readonly struct BodyParts
    {
        public BodyParts(List<byte[]> chunks, long length)
        {
            Parts = new List<ReadOnlyMemory<byte>>(chunks.Count);
            for (var i = 0; i < chunks.Count; i++) Parts.Add(chunks[i].AsMemory(0, (int)Math.Min(ChunkBytes, length - (long)i * ChunkBytes)));
            Length = length;
        }

        public BodyParts(ReadOnlySequence<byte> held)
        {
            Parts = new List<ReadOnlyMemory<byte>>(held.IsSingleSegment ? 1 : 4);
            foreach (var segment in held) if (!segment.IsEmpty) Parts.Add(segment);
            Length = held.Length;
        }

        public List<ReadOnlyMemory<byte>> Parts { get; }
        public int Count => Parts.Count;
        public long Length { get; }

        public bool IsPrintableText()
        {
            // One part (every small body): no decoder state to carry across parts.
            if (Parts.Count == 1) return IsPrintable(Parts[0].Span) && System.Text.Unicode.Utf8.IsValid(Parts[0].Span);
            var decoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
            var chars = ArrayPool<char>.Shared.Rent(ChunkBytes + 4);
            try
            {
                for (var p = 0; p < Parts.Count; p++)
                {
                    var span = Parts[p].Span; // never empty
                    if (!IsPrintable(span)) return false;
                    // A pipe segment can be longer than a chunk: decoded in chunk-sized pieces.
                    for (var at = 0; at < span.Length; at += ChunkBytes)
                    {
                        var piece = span.Slice(at, Math.Min(ChunkBytes, span.Length - at));
                        decoder.GetChars(piece, chars, flush: p == Parts.Count - 1 && at + piece.Length == span.Length);
                    }
                }
                return true;
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
            finally
            {
                ArrayPool<char>.Shared.Return(chars);
            }
        }

        /// <summary>
        /// The body's size as a JSON string's content: quote, backslash, tab, CR and LF take two bytes,
        /// characters outside the basic plane twelve; other text stays as it is (relaxed escaping).
        /// </summary>
        public long EscapedLength()
        {
            var total = Length;
            foreach (var part in Parts)
                foreach (var b in part.Span)
                {
                    if (b is (byte)'"' or (byte)'\\' or (byte)'\t' or (byte)'\n' or (byte)'\r') total++;
                    else if (b >= 0xF0) total += 8; // a 4-byte character is written as a \uXXXX\uXXXX surrogate pair
                }
            return total;
        }
    }

    /// <summary>
    /// Printable text holds no control character but tab, line feed and carriage return: anything else
    /// (NUL, ESC, …) is sent as base64 with is_binary, not as \u00XX escapes six times its size.
    /// </summary>
    internal static bool IsPrintable(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r') || b == 0x7f) return false;
        return true;
    }

    /// <summary>The envelope in one buffer (small bodies only: the saved-file answer); <paramref name="jobId"/> fills `job_id` and <paramref name="extra"/> adds fields at the end.</summary>
    internal static ArrayBufferWriter<byte> Write(UpstreamResponse upstream, TransferResult result, ReadOnlySpan<byte> body,
        string? jobId = null, Action<Utf8JsonWriter>? extra = null)
    {
        var output = new ArrayBufferWriter<byte>(body.Length * 2 + 1024);
        using var w = new Utf8JsonWriter(output, WriterOptions);
        var isText = System.Text.Unicode.Utf8.IsValid(body) && IsPrintable(body);
        WriteHead(w, upstream, result, jobId);
        if (isText) w.WriteString("body", body);
        else w.WriteBase64String("body", body);
        WriteTail(w, upstream, result, !isText, extra);
        w.Flush();
        return output;
    }

    /// <summary>Everything before `body`.</summary>
    private static void WriteHead(Utf8JsonWriter w, UpstreamResponse upstream, TransferResult result, string? jobId)
    {
        w.WriteStartObject();
        w.WriteBoolean("success", result.Ok && upstream.StatusCode < 400);
        if (jobId is null) w.WriteNull("job_id");
        else w.WriteString("job_id", jobId);
        w.WriteNumber("status_code", upstream.StatusCode);
        // The body is what libcurl decoded (compressed: true): its Content-Encoding and the encoded
        // Content-Length no longer describe it, so they are dropped, as transparent mode does.
        var headers = upstream.BodyDecoded ? ResponseHeaders.WithoutEncoding(upstream.Headers) : upstream.Headers;
        ResponseHeaders.Write(w, headers);
    }

    /// <summary>Everything after `body`, and the closing brace.</summary>
    private static void WriteTail(Utf8JsonWriter w, UpstreamResponse upstream, TransferResult result, bool isBinary, Action<Utf8JsonWriter>? extra)
    {
        var info = result.Info;
        w.WriteBoolean("is_binary", isBinary);
        TransferInfoJson.WriteTiming(w, info);
        TransferInfoJson.WriteMetadata(w, info, upstream);
        if (upstream.CacheStatus is { } cache) w.WriteString("cache", cache);
        extra?.Invoke(w);
        w.WriteEndObject();
    }
}
