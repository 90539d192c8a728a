// A test client that speaks channel.md frame for frame over System.Net.WebSockets.ClientWebSocket: it
// records every frame in arrival order (text frames parsed as JSON, binary frames with their 16-byte
// header decoded) and lets tests wait on a condition with a deadline.
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace HoodyCurl.E2E.Tests.Channel;

public sealed record ChannelFrame(JsonElement? Json, byte Kind, ushort Flags, ulong BinaryStream, byte[] Payload)
{
    public bool IsBinary => Json is null;
    public string Type => Json is { } j && j.TryGetProperty("type", out var t) ? t.GetString()! : "";
    public ulong? StreamId => Json is { } j ? (j.TryGetProperty("stream_id", out var s) ? s.GetUInt64() : null) : BinaryStream;
    public override string ToString() => IsBinary ? $"BIN kind={Kind} flags={Flags} stream={BinaryStream} len={Payload.Length}" : Json!.Value.GetRawText();
}

public sealed class ChannelClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly List<ChannelFrame> _frames = [];
    private readonly SemaphoreSlim _signal = new(0);
    private Task? _reader;
    public WebSocketCloseStatus? CloseStatus { get; private set; }
    public string? CloseReason { get; private set; }
    public bool Closed { get; private set; }
    /// <summary>Set to make the reader stop reading the socket (a stalled consumer).</summary>
    public TaskCompletionSource? Stall { get; set; }

    public static async Task<ChannelClient> ConnectAsync(string baseUrl, string query = "")
    {
        var client = new ChannelClient();
        var uri = new Uri(baseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + "/api/v1/curl/channel" + query);
        await client._socket.ConnectAsync(uri, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        client._reader = client.ReadAsync();
        return client;
    }

    public IReadOnlyList<ChannelFrame> Frames { get { lock (_frames) return [.. _frames]; } }

    public IReadOnlyList<ChannelFrame> Of(ulong streamId) => Frames.Where(f => f.StreamId == streamId).ToList();

    private async Task ReadAsync()
    {
        var buffer = new byte[1 << 20];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                if (Stall is { } stall) await stall.Task;
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = result.CloseStatus;
                    CloseReason = result.CloseStatusDescription;
                    break;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var bytes = message.ToArray();
                message.SetLength(0);
                ChannelFrame frame;
                if (result.MessageType == WebSocketMessageType.Text)
                {
                    frame = new ChannelFrame(JsonDocument.Parse(bytes).RootElement.Clone(), 0, 0, 0, []);
                }
                else
                {
                    frame = new ChannelFrame(null, bytes[1], BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2)),
                        BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)), bytes[16..]);
                    if (bytes[0] != 1 || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)) != 0) throw new InvalidDataException("bad binary header");
                }
                lock (_frames) _frames.Add(frame);
                _signal.Release();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            Closed = true;
            _signal.Release();
        }
    }

    public Task SendAsync(string json) => _socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendBinaryAsync(byte[] frame) => _socket.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>One fragment of a binary message; the message ends with the fragment sent with <paramref name="end"/>.</summary>
    public Task SendBinaryFragmentAsync(ReadOnlyMemory<byte> fragment, bool end) => _socket.SendAsync(fragment, WebSocketMessageType.Binary, end, CancellationToken.None).AsTask();

    public static byte[] RequestBody(ulong streamId, ReadOnlySpan<byte> payload, ushort flags = 0)
    {
        var frame = new byte[16 + payload.Length];
        frame[0] = 1;
        frame[1] = 2;
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(8), streamId);
        payload.CopyTo(frame.AsSpan(16));
        return frame;
    }

    public Task StartAsync(ulong streamId, string requestJson, bool binaryBody = false) =>
        SendAsync($"{{\"type\":\"request.start\",\"stream_id\":{streamId},\"request\":{requestJson}{(binaryBody ? ",\"binary_body\":true" : "")}}}");

    public static string Get(string url) => $"{{\"url\":{JsonSerializer.Serialize(url, ChannelJson.Default.String)}}}";

    /// <summary>Waits until <paramref name="done"/> holds for the frames so far (or the socket closed), at most <paramref name="seconds"/>.</summary>
    public async Task<IReadOnlyList<ChannelFrame>> WaitAsync(Func<IReadOnlyList<ChannelFrame>, bool> done, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var frames = Frames;
            if (done(frames)) return frames;
            if (Closed) throw new InvalidOperationException($"socket closed ({CloseStatus} {CloseReason}) before the condition held; frames: {string.Join("\n", frames.TakeLast(10))}");
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"condition not met in {seconds}s; last frames: {string.Join("\n", frames.TakeLast(10))}");
            await _signal.WaitAsync(left);
        }
    }

    /// <summary>Waits for the stream's terminal frame (response.end, cancelled, or error with its id) and returns its frames.</summary>
    public async Task<IReadOnlyList<ChannelFrame>> WaitStreamAsync(ulong streamId, int seconds = 60)
    {
        await WaitAsync(f => f.Any(x => x.StreamId == streamId && !x.IsBinary && x.Type is "response.end" or "cancelled" or "error"), seconds);
        return Of(streamId);
    }

    /// <summary>The stream's body: binary BODY payloads or decoded response.body chunks, in order.</summary>
    public static byte[] Body(IEnumerable<ChannelFrame> frames)
    {
        var body = new MemoryStream();
        foreach (var f in frames)
        {
            if (f.IsBinary) body.Write(f.Payload);
            else if (f.Type == "response.body") body.Write(Convert.FromBase64String(f.Json!.Value.GetProperty("data").GetString()!));
        }
        return body.ToArray();
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
    }

    public async ValueTask DisposeAsync()
    {
        Stall?.TrySetResult();
        _socket.Abort();
        if (_reader is not null) await _reader;
        _socket.Dispose();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class ChannelJson : System.Text.Json.Serialization.JsonSerializerContext;
