// The JSON text frames the channel sends (docs/api.md (Channel)), each one UTF-8 object with its `type`.
using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Realtime.Channel;

internal static class ChannelFrames
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(Action<Utf8JsonWriter> fields, int sizeHint = 256)
    {
        var output = new ArrayBufferWriter<byte>(sizeHint);
        using (var w = new Utf8JsonWriter(output, Options))
        {
            w.WriteStartObject();
            fields(w);
            w.WriteEndObject();
        }
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Hello(string connectionId, ChannelLimits limits, bool sse, bool cache = false) => Write(w =>
    {
        w.WriteString("type", "hello");
        w.WriteNumber("version", 2);
        w.WriteString("connection_id", connectionId);
        w.WriteStartObject("limits");
        w.WriteNumber("max_concurrent_streams", limits.MaxConcurrentStreams);
        w.WriteNumber("max_queue", limits.MaxQueue);
        w.WriteNumber("max_frame_bytes", limits.MaxFrameBytes);
        w.WriteNumber("max_request_bytes", limits.MaxRequestBytes);
        w.WriteNumber("chunk_bytes", limits.ChunkBytes);
        w.WriteNumber("stream_timeout_secs", limits.StreamTimeoutSecs);
        w.WriteNumber("idle_timeout_secs", limits.IdleTimeoutSecs);
        w.WriteNumber("max_outbound_messages", limits.MaxOutboundMessages);
        w.WriteEndObject();
        w.WriteStartObject("features");
        w.WriteBoolean("buffered", true);
        w.WriteBoolean("streaming", true);
        w.WriteBoolean("cache", cache); // --cache-mode readonly/readwrite with a namespace
        w.WriteBoolean("outbound_pooling", true);
        w.WriteBoolean("sse", sse);
        w.WriteBoolean("binary_frames", limits.Binary);
        w.WriteEndObject();
    });

    public static byte[] Simple(string type, ulong? streamId = null) => Write(w =>
    {
        w.WriteString("type", type);
        if (streamId is { } id) w.WriteNumber("stream_id", id);
    }, 64);

    public static byte[] Error(string errorType, string message, ulong? streamId) => Write(w =>
    {
        w.WriteString("type", "error");
        w.WriteString("error_type", errorType);
        w.WriteString("message", message);
        if (streamId is { } id) w.WriteNumber("stream_id", id);
    });

    public static byte[] ResponseStart(ulong streamId, UpstreamResponse upstream, IReadOnlyList<HeaderEntry> headers, long bodyBytes, bool isSse) => Write(w =>
    {
        w.WriteString("type", "response.start");
        w.WriteNumber("stream_id", streamId);
        w.WriteNumber("status_code", upstream.StatusCode);
        ResponseHeaders.WriteMap(w, "headers", headers);
        ResponseHeaders.WriteRaw(w, "raw_headers", headers);
        if (upstream.ContentType is { } type) w.WriteString("content_type", type);
        else w.WriteNull("content_type");
        w.WriteString("effective_url", upstream.EffectiveUrl);
        w.WriteNumber("body_bytes", bodyBytes);
        if (isSse) w.WriteBoolean("is_sse", true);
    }, 1024);

    public static byte[] Body(ulong streamId, long offset, ReadOnlySpan<byte> chunk)
    {
        var output = new ArrayBufferWriter<byte>(chunk.Length * 4 / 3 + 128);
        using (var w = new Utf8JsonWriter(output, Options))
        {
            w.WriteStartObject();
            w.WriteString("type", "response.body");
            w.WriteNumber("stream_id", streamId);
            w.WriteNumber("offset", offset);
            w.WriteString("encoding", "base64");
            w.WriteBase64String("data", chunk);
            w.WriteEndObject();
        }
        return output.WrittenSpan.ToArray();
    }

    public static byte[] SseEvent(ulong streamId, long seq, SseEventParser.SseEvent e) => Write(w =>
    {
        w.WriteString("type", "response.sse_event");
        w.WriteNumber("stream_id", streamId);
        w.WriteNumber("seq", seq);
        w.WriteString("event", e.Event);
        w.WriteString("data", e.Data);
        if (e.Id is { } id) w.WriteString("id", id);
        if (e.Retry is { } retry) w.WriteNumber("retry", retry);
        if (e.Truncated) w.WriteBoolean("data_truncated", true);
    }, e.Data.Length + 128);

    public static byte[] End(ulong streamId, TransferInfo info, UpstreamResponse upstream, long? sseEvents, HoodyCurl.Storage.StoredFile? saved = null) => Write(w =>
    {
        w.WriteString("type", "response.end");
        w.WriteNumber("stream_id", streamId);
        TransferInfoJson.WriteTiming(w, info);
        TransferInfoJson.WriteMetadata(w, info, upstream);
        if (sseEvents is { } n) w.WriteNumber("sse_events", n);
        if (saved is not null)
        {
            w.WriteStartObject("saved");
            w.WriteString("id", saved.Id);
            w.WriteString("path", saved.Paths[0]);
            w.WriteStartArray("paths");
            foreach (var path in saved.Paths) w.WriteStringValue(path);
            w.WriteEndArray();
            w.WriteNumber("size", saved.Size);
            w.WriteEndObject();
        }
    }, 512);
}
