// A minimal forward HTTP proxy on 127.0.0.1 for the proxy tests: it records every request it receives
// (request line and headers) and answers it itself — 200 with "via-canary-proxy <target>" — or with a
// redirect registered for a target URL. One request per connection (Connection: close).
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HoodyCurl.E2E.Tests.Security;

public sealed class CanaryProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _requests = [];
    private readonly Dictionary<string, string> _redirects = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private int _connections;

    private CanaryProxy()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _loop = AcceptLoopAsync();
    }

    public static CanaryProxy Start() => new();

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Each request received: its request line, then its header lines, joined by "\n".</summary>
    public IReadOnlyList<string> Requests { get { lock (_requests) return [.. _requests]; } }

    /// <summary>Answer a request for <paramref name="target"/> (absolute URL) with 302 to <paramref name="location"/>.</summary>
    public void Redirect(string target, string location)
    {
        lock (_redirects) _redirects[target] = location;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            Interlocked.Increment(ref _connections);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = new StringBuilder();
                var buffer = new byte[1];
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                while (head.Length < 65536 && !head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
                {
                    if (await stream.ReadAsync(buffer, timeout.Token) == 0) return;
                    head.Append((char)buffer[0]);
                }
                var lines = head.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
                lock (_requests) _requests.Add(string.Join("\n", lines));
                var target = lines.Length > 0 ? lines[0].Split(' ') is { Length: >= 2 } parts ? parts[1] : "" : "";
                string? location;
                lock (_redirects) _redirects.TryGetValue(target, out location);
                var body = "via-canary-proxy " + target;
                var response = location is not null
                    ? $"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    : $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Encoding.ASCII.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response), timeout.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _loop; } catch (Exception) { }
        _stop.Dispose();
    }
}
