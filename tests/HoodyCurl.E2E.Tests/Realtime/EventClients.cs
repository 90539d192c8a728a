// Test clients for the live event routes: an EventSource-style reader for /sse (and for promoted
// passthrough bodies) and a WebSocket reader for /ws. Both collect what arrives in the background
// and let a test wait for a condition with a deadline.
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace HoodyCurl.E2E.Tests.Realtime;

/// <summary>One parsed SSE block: its fields as the WHATWG parser sees them; Comment for ':' lines.</summary>
internal sealed record SseFrame(string? Event, string? Data, string? Id, string? Comment, string? Retry)
{
    public JsonElement Json => JsonDocument.Parse(Data!).RootElement.Clone();
}

/// <summary>Reads a text/event-stream over HTTP like an EventSource (without reconnecting).</summary>
internal sealed class SseClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<SseFrame> _frames = [];
    private readonly MemoryStream _raw = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Task _pump = Task.CompletedTask;

    private SseClient(HttpClient http) => _http = http;

    public HttpResponseMessage Response { get; private set; } = null!;
    public int Status => (int)Response.StatusCode;
    /// <summary>Milliseconds from the request until the first non-comment frame (null before it).</summary>
    public double? FirstEventMs { get; private set; }
    public bool Ended { get; private set; }
    public Exception? Error { get; private set; }

    public static async Task<SseClient> OpenAsync(string url, string? lastEventId = null, HttpMethod? method = null, HttpContent? content = null)
    {
        var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None }) { Timeout = Timeout.InfiniteTimeSpan };
        var client = new SseClient(http);
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, url) { Content = content };
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null) request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        client.Response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        client._pump = client.PumpAsync();
        return client;
    }

    public List<SseFrame> Frames { get { lock (_frames) return [.. _frames]; } }
    public byte[] RawBytes { get { lock (_frames) return _raw.ToArray(); } }
    public string Raw => Encoding.UTF8.GetString(RawBytes);
    public List<SseFrame> Events(string name) => [.. Frames.Where(f => f.Event == name)];

    private async Task PumpAsync()
    {
        try
        {
            await using var body = await Response.Content.ReadAsStreamAsync(_stop.Token);
            var buffer = new byte[16 * 1024];
            var pending = new StringBuilder();
            int read;
            while ((read = await body.ReadAsync(buffer, _stop.Token)) > 0)
            {
                lock (_frames)
                {
                    _raw.Write(buffer, 0, read);
                    pending.Append(Encoding.UTF8.GetString(buffer, 0, read));
                    Split(pending);
                }
            }
            Ended = true;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            Error = e;
        }
    }

    // Blocks end at a blank line (LF only: what these tests see).
    private void Split(StringBuilder pending)
    {
        var text = pending.ToString();
        int end;
        var consumed = 0;
        while ((end = text.IndexOf("\n\n", consumed, StringComparison.Ordinal)) >= 0)
        {
            var block = text[consumed..end];
            consumed = end + 2;
            string? ev = null, data = null, id = null, comment = null, retry = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith(':')) { comment = line[1..]; continue; }
                var colon = line.IndexOf(':');
                var name = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
                switch (name)
                {
                    case "event": ev = value; break;
                    case "data": data = data is null ? value : data + "\n" + value; break;
                    case "id": id = value; break;
                    case "retry": retry = value; break;
                }
            }
            if (ev is not null || data is not null) FirstEventMs ??= _clock.Elapsed.TotalMilliseconds;
            _frames.Add(new SseFrame(ev, data, id, comment, retry));
        }
        pending.Remove(0, consumed);
    }

    /// <summary>Waits until <paramref name="condition"/> holds over the frames so far; fails after <paramref name="seconds"/>.</summary>
    public async Task<List<SseFrame>> WaitForAsync(Func<List<SseFrame>, bool> condition, int seconds = 30)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var frames = Frames;
            if (condition(frames)) return frames;
            if (deadline.Elapsed.TotalSeconds > seconds || (_pump.IsCompleted && !condition(Frames)))
                throw new TimeoutException($"SSE condition not met after {deadline.Elapsed.TotalSeconds:F1}s (ended={Ended}, error={Error?.Message}); got {frames.Count} frames:\n{Raw[..Math.Min(Raw.Length, 3000)]}");
            await Task.Delay(10);
        }
    }

    /// <summary>Waits for the response body to end; fails after <paramref name="seconds"/>.</summary>
    public async Task WaitEndAsync(int seconds = 30)
    {
        if (await Task.WhenAny(_pump, Task.Delay(TimeSpan.FromSeconds(seconds))) != _pump)
            throw new TimeoutException($"the SSE body did not end within {seconds}s; got:\n{Raw[..Math.Min(Raw.Length, 3000)]}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Response?.Dispose();
        _http.Dispose();
        try { await _pump; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}

/// <summary>A /ws subscriber that reads every text frame as JSON.</summary>
internal sealed class WsClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<JsonElement> _messages = [];
    private Task _pump = Task.CompletedTask;

    public static async Task<WsClient> ConnectAsync(string url)
    {
        var client = new WsClient();
        await client._socket.ConnectAsync(new Uri(url), CancellationToken.None);
        client._pump = client.PumpAsync();
        return client;
    }

    public WebSocketState State => _socket.State;
    public Exception? Error { get; private set; }
    public List<JsonElement> Messages { get { lock (_messages) return [.. _messages]; } }
    public List<JsonElement> OfType(string type) => [.. Messages.Where(m => m.GetProperty("type").GetString() == type)];

    private async Task PumpAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close) return;
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var json = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
                message.SetLength(0);
                lock (_messages) _messages.Add(json);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            Error = e;
        }
    }

    public async Task<List<JsonElement>> WaitForAsync(Func<List<JsonElement>, bool> condition, int seconds = 30)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var messages = Messages;
            if (condition(messages)) return messages;
            if (deadline.Elapsed.TotalSeconds > seconds || _pump.IsCompleted && !condition(Messages))
                throw new TimeoutException($"WS condition not met after {deadline.Elapsed.TotalSeconds:F1}s (state={_socket.State}, error={Error?.Message}); got {messages.Count} messages: "
                    + string.Join("\n", messages.Take(40).Select(m => m.GetRawText())));
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, quick.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        await _stop.CancelAsync();
        try { await _pump; } catch (OperationCanceledException) { }
        _socket.Dispose();
        _stop.Dispose();
    }
}

internal static class EventJson
{
    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;
    public static bool Has(this JsonElement e, string name) => e.TryGetProperty(name, out _);
}
