// A hand-written HTTP/1.1 upstream on a raw socket, for what a well-behaved server never does: it keeps
// connections alive and answers every request it finds in the byte stream, so bytes smuggled after a
// request's declared end become a second request it answers too (the response-theft attack of issue 16);
// or it answers with whatever head a test scripts (folded header lines, thousands of repeated names,
// 101, HTTP/0.9). Every request it parsed is recorded.
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HoodyCurl.E2E.Tests.Hardening;

public sealed record RawUpstreamRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, byte[] Body, int Connection);

public sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<RawUpstreamRequest, Stream, Task> _respond;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<RawUpstreamRequest> _requests = [];
    private readonly List<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _connectionCount;

    private RawUpstream(Func<RawUpstreamRequest, Stream, Task> respond)
    {
        _respond = respond;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    /// <summary>An upstream that answers each request with what <paramref name="respond"/> writes.</summary>
    public static RawUpstream Start(Func<RawUpstreamRequest, Stream, Task> respond) => new(respond);

    /// <summary>
    /// Answers every request with a 200 whose body names the request target and the Authorization it
    /// carried, the way an echo service hands a caller's credentials back to that caller.
    /// </summary>
    public static RawUpstream StartEcho() => Start(async (request, stream) =>
    {
        request.Headers.TryGetValue("authorization", out var auth);
        var body = Encoding.ASCII.GetBytes($"target={request.Target}\nauthorization={auth ?? "-"}\n");
        var head = $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
    });

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public IReadOnlyList<RawUpstreamRequest> Requests { get { lock (_requests) return [.. _requests]; } }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            var number = Interlocked.Increment(ref _connectionCount);
            lock (_connections) _connections.Add(ServeAsync(client, number));
        }
    }

    private async Task ServeAsync(TcpClient client, int number)
    {
        using var _ = client;
        var stream = client.GetStream();
        var pending = new List<byte>();
        var buffer = new byte[64 * 1024];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int headEnd;
                while ((headEnd = IndexOf(pending, "\r\n\r\n"u8)) < 0)
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0) return;
                    pending.AddRange(buffer.AsSpan(0, read));
                }
                var head = Encoding.Latin1.GetString(pending.GetRange(0, headEnd).ToArray());
                pending.RemoveRange(0, headEnd + 4);
                var lines = head.Split("\r\n");
                var parts = lines[0].Split(' ');
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var line in lines.Skip(1))
                {
                    var colon = line.IndexOf(':');
                    if (colon > 0) headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
                }
                var length = headers.TryGetValue("content-length", out var cl) && int.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
                while (pending.Count < length)
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0) return;
                    pending.AddRange(buffer.AsSpan(0, read));
                }
                var body = pending.GetRange(0, length).ToArray();
                pending.RemoveRange(0, length);
                var request = new RawUpstreamRequest(parts[0], parts.Length > 1 ? parts[1] : "", headers, body, number);
                lock (_requests) _requests.Add(request);
                await _respond(request, stream);
                await stream.FlushAsync(_stop.Token);
            }
        }
        catch (Exception)
        {
            // The peer went away or the test is over: this connection is done.
        }
    }

    private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> needle)
    {
        for (var i = 0; i + needle.Length <= bytes.Count; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length && match; j++) match = bytes[i + j] == needle[j];
            if (match) return i;
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _acceptLoop; } catch (Exception) { }
        Task[] connections;
        lock (_connections) connections = [.. _connections];
        try { await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { }
        _stop.Dispose();
    }
}
