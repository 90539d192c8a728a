// A hostile upstream on 127.0.0.1: reads one request head per connection and answers with exactly the
// bytes it was given (any header bytes at all), then closes. The bytes can change between requests.
using System.Net;
using System.Net.Sockets;

namespace HoodyCurl.E2E.Tests.Requests;

public sealed class RawResponder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile byte[] _answer = [];

    public RawResponder()
    {
        _listener.Start();
        _loop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url(string path = "/") => $"http://127.0.0.1:{Port}{path}";

    /// <summary>The bytes every following request is answered with.</summary>
    public byte[] Answer { set => _answer = value; }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            _ = ServeAsync(client, _answer);
        }
    }

    private async Task ServeAsync(TcpClient client, byte[] answer)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                var stream = client.GetStream();
                var window = 0u;
                var one = new byte[1];
                while (window != 0x0D0A0D0A)
                {
                    if (await stream.ReadAsync(one, timeout.Token) == 0) return;
                    window = (window << 8) | one[0];
                }
                await stream.WriteAsync(answer, timeout.Token);
                client.Client.Shutdown(SocketShutdown.Send);
                while (await stream.ReadAsync(one, timeout.Token) > 0) { } // until the client closes
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException) { }
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
