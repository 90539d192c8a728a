// Sync SSE passthrough (docs/api.md (Executing requests: SSE passthrough)): when the final upstream response of a sync /request (or /curl,
// or the GET bridge, whatever `response` says) is 2xx text/event-stream, the body is relayed
// byte-identical and flushed as each chunk arrives, and exactly one synthetic frame follows it:
//
//   upstream ends cleanly  ─▶ event: end    data: {"total_bytes":N}
//   upstream fails         ─▶ event: error  data: {"error_type":"execution_error","message":…,"total_bytes":N}
//   --sse-max-duration-secs ─▶ event: error data: {"error_type":"sse_max_duration",…}
//   client goes away       ─▶ (nothing: the transfer is aborted)
//
// The stream holds one --max-sse-concurrent permit for its lifetime (503 SSE_CAPACITY + Retry-After
// when none is free, with the transfer aborted), and its libcurl handle is not pooled afterwards.
using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Kernel.Sse;
using HoodyCurl.Requests.Model;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Requests.Endpoints;

internal sealed class SsePassthrough
{
    private readonly SseSettings _settings;
    private readonly SseCapacity _capacity;
    private readonly Counter _promoted;
    private readonly Counter _bytes;

    public SsePassthrough(SseSettings settings, SseCapacity capacity, MetricsRegistry metrics)
    {
        _settings = settings;
        _capacity = capacity;
        _promoted = metrics.Counter("hoody_curl_sse_promoted_total",
            "Sync requests promoted to an SSE passthrough, by how the stream ended (end, error, cancelled, max_duration).", "outcome");
        foreach (var outcome in new[] { "end", "error", "cancelled", "max_duration" }) _promoted.WithLabels(outcome);
        _bytes = metrics.Counter("hoody_curl_sse_passthrough_bytes_total", "Upstream SSE bytes relayed by promoted passthroughs.");
    }

    /// <summary>
    /// Whether <paramref name="upstream"/> is promoted (docs/api.md (Executing requests: SSE passthrough)): SSE on, a body-carrying 2xx whose
    /// Content-Type is text/event-stream, and a body that reaches us as plain SSE (not still compressed).
    /// </summary>
    public bool Applies(CurlRequest request, UpstreamResponse upstream) => SsePromotion.Applies(_settings, request, upstream);

    internal static bool IsEventStream(string contentType) => SsePromotion.IsEventStream(contentType);

    public async Task RelayAsync(HttpContext context, UpstreamResponse upstream, string requestId)
    {
        using var permit = _capacity.TryAcquire(SseKinds.Passthrough);
        if (permit is null)
        {
            upstream.Abort();
            throw new ApiErrorException(_capacity.Refusal());
        }
        upstream.Promote();

        var response = context.Response;
        response.StatusCode = upstream.StatusCode;
        foreach (var h in upstream.Headers)
        {
            if (ResponseHeaders.IsHopByHop(h.Name) || h.Name.Equals("content-length", StringComparison.OrdinalIgnoreCase)
                || h.Name.Equals("cache-control", StringComparison.OrdinalIgnoreCase)) continue;
            if (upstream.BodyDecoded && h.Name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase)) continue;
            response.Headers.Append(h.Name, h.Value);
        }
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        response.Headers["X-Request-Id"] = requestId;

        var aborted = context.RequestAborted;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(TimeSpan.FromSeconds(_settings.MaxDurationSecs));
        var writer = response.BodyWriter;
        var boundary = new SseBoundary();
        long total = 0;
        string outcome;
        (string Type, string Message)? failure = null;
        try
        {
            await response.StartAsync(aborted).ConfigureAwait(false); // the head reaches the client before the first event
            while (true)
            {
                ReadResult read;
                try
                {
                    read = await upstream.Body.ReadAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    upstream.Abort();
                    outcome = "max_duration";
                    failure = ("sse_max_duration", $"the stream reached --sse-max-duration-secs ({_settings.MaxDurationSecs}s)");
                    break;
                }
                catch (ApiErrorException e)
                {
                    outcome = "error";
                    failure = ErrorOf(e.Error);
                    break;
                }
                var buffer = read.Buffer;
                foreach (var segment in buffer)
                {
                    boundary.Feed(segment.Span);
                    writer.Write(segment.Span);
                }
                total += buffer.Length;
                upstream.Body.AdvanceTo(buffer.End);
                if (!buffer.IsEmpty)
                {
                    _bytes.Inc(buffer.Length);
                    var flushed = await writer.FlushAsync(aborted).ConfigureAwait(false);
                    if (flushed.IsCompleted || flushed.IsCanceled) throw new OperationCanceledException();
                }
                if (read.IsCompleted)
                {
                    var result = await upstream.Completion.ConfigureAwait(false);
                    outcome = result.Ok ? "end" : "error";
                    failure = result.Error is { } error ? ErrorOf(error) : null;
                    break;
                }
            }
            var frame = failure is not { } f
                ? Frame(boundary.Prefix, "end", w => w.WriteNumber("total_bytes", total))
                : Frame(boundary.Prefix, "error", w =>
                {
                    w.WriteString("error_type", f.Type);
                    w.WriteString("message", f.Message);
                    w.WriteNumber("total_bytes", total);
                });
            writer.Write(frame);
            await writer.FlushAsync(aborted).ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The caller went away: abort the upstream transfer; nobody is left to read a frame.
            upstream.Abort();
            outcome = "cancelled";
        }
        _promoted.WithLabels(outcome).Inc();
    }

    /// <summary>The channel vocabulary's error_type (docs/api.md (Executing requests: SSE passthrough)) for a transfer that failed mid-stream.</summary>
    private static (string Type, string Message) ErrorOf(ApiError error) =>
        (error.Code == ErrorCodes.Internal ? "internal_error" : "execution_error", error.Message);

    /// <summary>One synthetic frame: the prefix that closes an unfinished upstream event, then event/data/blank line.</summary>
    internal static byte[] Frame(string prefix, string eventName, Action<Utf8JsonWriter> data)
    {
        var json = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            data(w);
            w.WriteEndObject();
        }
        var head = Encoding.UTF8.GetBytes(prefix + "event: " + eventName + "\ndata: ");
        var frame = new byte[head.Length + json.WrittenCount + 2];
        head.CopyTo(frame, 0);
        json.WrittenSpan.CopyTo(frame.AsSpan(head.Length));
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        return frame;
    }
}
