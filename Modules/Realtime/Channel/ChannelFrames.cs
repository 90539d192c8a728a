// The JSON text frames the channel sends (docs/api.md (Channel)), each one UTF-8 object with its `type`.
using System.Buffers;
using System.Buffers.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using HoodyCurl.Kernel.Json;
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

    /// <summary>A frame as UTF-8 JSON through its source-generated type info (API escaping: caller text stays readable).</summary>
    private static byte[] Serialize<T>(T frame, JsonTypeInfo<T> info, int sizeHint = 256)
    {
        var output = new ArrayBufferWriter<byte>(sizeHint);
        using (var w = new Utf8JsonWriter(output, Options)) JsonSerializer.Serialize(w, frame, info);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Hello(string connectionId, ChannelLimits limits, bool sse, bool cache = false) => Serialize(new HelloFrame(
        "hello", 2, connectionId,
        new HelloLimits(limits.MaxConcurrentStreams, limits.MaxQueue, limits.MaxFrameBytes, limits.MaxRequestBytes, limits.ChunkBytes,
            limits.StreamTimeoutSecs, limits.IdleTimeoutSecs, limits.MaxOutboundMessages),
        // cache: --cache-mode readonly/readwrite with a namespace
        new HelloFeatures(Buffered: true, Streaming: true, cache, OutboundPooling: true, sse, limits.Binary)), ChannelJson.Default.HelloFrame);

    public static byte[] Simple(string type, ulong? streamId = null) => Serialize(new SimpleFrame(type, streamId), ChannelJson.Default.SimpleFrame, 64);

    public static byte[] Error(string errorType, string message, ulong? streamId) =>
        Serialize(new ErrorFrame("error", errorType, message, streamId), ChannelJson.Default.ErrorFrame);

    public static byte[] ResponseStart(ulong streamId, UpstreamResponse upstream, IReadOnlyList<HeaderEntry> headers, long bodyBytes, bool isSse) =>
        Serialize(new ResponseStartFrame("response.start", streamId, upstream.StatusCode, ResponseHeaders.Map(headers), headers,
            upstream.ContentType, upstream.EffectiveUrl, bodyBytes, isSse ? true : null), ChannelJson.Default.ResponseStartFrame, 1024);

    private static ReadOnlySpan<byte> BodyPrefix => "{\"type\":\"response.body\",\"stream_id\":"u8;
    private static ReadOnlySpan<byte> BodyOffset => ",\"offset\":"u8;
    private static ReadOnlySpan<byte> BodyData => ",\"encoding\":\"base64\",\"data\":\""u8;

    /// <summary>
    /// A text `response.body` frame (§7.5) written straight into a buffer rented from
    /// <see cref="ArrayPool{T}.Shared"/> (base64 needs no JSON escaping); the frame is the first
    /// <paramref name="length"/> bytes and the caller returns the buffer once it has been sent.
    /// </summary>
    public static byte[] RentBody(ulong streamId, long offset, ReadOnlySpan<byte> chunk, out int length)
    {
        var frame = ArrayPool<byte>.Shared.Rent(BodyPrefix.Length + BodyOffset.Length + BodyData.Length + 2 * 20 + Base64.GetMaxEncodedToUtf8Length(chunk.Length) + 2);
        var span = frame.AsSpan();
        BodyPrefix.CopyTo(span);
        var at = BodyPrefix.Length;
        Utf8Formatter.TryFormat(streamId, span[at..], out var written);
        at += written;
        BodyOffset.CopyTo(span[at..]);
        at += BodyOffset.Length;
        Utf8Formatter.TryFormat(offset, span[at..], out written);
        at += written;
        BodyData.CopyTo(span[at..]);
        at += BodyData.Length;
        Base64.EncodeToUtf8(chunk, span[at..], out _, out written);
        at += written;
        span[at++] = (byte)'"';
        span[at++] = (byte)'}';
        length = at;
        return frame;
    }

    public static byte[] SseEvent(ulong streamId, long seq, SseEventParser.SseEvent e) => Serialize(new SseEventFrame(
        "response.sse_event", streamId, seq, e.Event, e.Data, e.Id, e.Retry, e.Truncated ? true : null), ChannelJson.Default.SseEventFrame, e.Data.Length + 128);

    public static byte[] End(ulong streamId, TransferInfo info, UpstreamResponse upstream, long? sseEvents, HoodyCurl.Storage.StoredFile? saved = null) => Write(w =>
    {
        w.WriteString("type", "response.end");
        w.WriteNumber("stream_id", streamId);
        TransferInfoJson.WriteTiming(w, info);
        TransferInfoJson.WriteMetadata(w, info, upstream);
        if (sseEvents is { } n) w.WriteNumber("sse_events", n);
        if (saved is not null)
        {
            w.WritePropertyName("saved");
            JsonSerializer.Serialize(w, new SavedView(saved.Id, saved.Paths[0], saved.Paths, saved.Size), ChannelJson.Default.SavedView);
        }
    }, 512);
}

// The frames' source-generated shapes. Members left null are omitted (stream_id of a socket-level
// frame, the optional SSE fields); content_type is always present, null when unknown.
internal sealed record HelloFrame(string Type, int Version, string ConnectionId, HelloLimits Limits, HelloFeatures Features);

internal sealed record HelloLimits(
    int MaxConcurrentStreams, int MaxQueue, long MaxFrameBytes, long MaxRequestBytes, int ChunkBytes, int StreamTimeoutSecs,
    int IdleTimeoutSecs, int MaxOutboundMessages);

internal sealed record HelloFeatures(bool Buffered, bool Streaming, bool Cache, bool OutboundPooling, bool Sse, bool BinaryFrames);

internal sealed record SimpleFrame(string Type, ulong? StreamId);

internal sealed record ErrorFrame(string Type, string ErrorType, string Message, ulong? StreamId);

internal sealed record ResponseStartFrame(
    string Type,
    ulong StreamId,
    int StatusCode,
    [property: JsonConverter(typeof(StringPairsConverter))] IReadOnlyList<KeyValuePair<string, string>> Headers,
    IReadOnlyList<HeaderEntry> RawHeaders,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ContentType,
    string EffectiveUrl,
    long BodyBytes,
    bool? IsSse);

internal sealed record SseEventFrame(string Type, ulong StreamId, long Seq, string Event, string Data, string? Id, long? Retry, bool? DataTruncated);

internal sealed record SavedView(string Id, string Path, IReadOnlyList<string> Paths, long Size);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HelloFrame))]
[JsonSerializable(typeof(SimpleFrame))]
[JsonSerializable(typeof(ErrorFrame))]
[JsonSerializable(typeof(ResponseStartFrame))]
[JsonSerializable(typeof(SseEventFrame))]
[JsonSerializable(typeof(SavedView))]
internal sealed partial class ChannelJson : JsonSerializerContext;
