// The loop keeps a kept-alive connection registered in epoll between requests (parked) instead of removing and
// re-adding it per request. The two ways that can go wrong are tested against a server of our own on loopback:
// a socket libcurl closes frees its descriptor number, and the next connection usually gets the same number,
// which must be registered afresh (else that request would wait for an event that never comes); and a parked
// connection the server closes reports readable for ever, which must not spin the loop.
using System.Net;
using System.Net.Sockets;
using System.Text;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Tests.Engine;

public class SocketParkingTests
{
    private static ExecutionOptions Sync() => new() { RequestId = Guid.NewGuid().ToString() };

    /// <summary>
    /// A small HTTP/1.1 server: keeps connections alive, except that /close answers with Connection: close and
    /// closes, and /linger-close closes the connection 100 ms after answering (while the client holds it idle).
    /// </summary>
    private sealed class Server : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _accepted;
        private int _lingerClosed;

        public Server()
        {
            _listener.Start();
            _accepting = Task.Run(AcceptAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public int Accepted => Volatile.Read(ref _accepted);
        public int LingerClosed => Volatile.Read(ref _lingerClosed);

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _accepted);
                    _ = Task.Run(() => ServeAsync(client));
                }
            }
            catch (OperationCanceledException) { }
            catch (SocketException) { }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using var _ = client;
            var stream = client.GetStream();
            var buffer = new byte[8192];
            var text = new StringBuilder();
            try
            {
                while (true)
                {
                    var end = text.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal);
                    if (end < 0)
                    {
                        var n = await stream.ReadAsync(buffer, _stop.Token);
                        if (n == 0) return;
                        text.Append(Encoding.ASCII.GetString(buffer, 0, n));
                        continue;
                    }
                    var head = text.ToString(0, end);
                    text.Remove(0, end + 4);
                    var path = head.Split(' ')[1];
                    var body = "path=" + path;
                    var close = path == "/close";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(
                        $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n{(close ? "Connection: close\r\n" : "")}\r\n{body}"), _stop.Token);
                    if (close) return;
                    if (path == "/linger-close")
                    {
                        await Task.Delay(100, _stop.Token);
                        Interlocked.Increment(ref _lingerClosed);
                        return;
                    }
                }
            }
            catch (OperationCanceledException) { }
            catch (IOException) { }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            await _accepting;
        }
    }

    private static async Task<string> GetAsync(EngineHarness engine, int port, string path)
    {
        // A request that waits for an event epoll was never told to watch would hang: bounded, and a hang fails.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var response = await engine.Executor.SendAsync(new CurlRequest { Url = $"http://127.0.0.1:{port}{path}" }, Sync(), deadline.Token);
        using var body = new MemoryStream();
        await response.Body.CopyToAsync(body, deadline.Token);
        var result = await response.Completion.WaitAsync(deadline.Token);
        await Assert.That(result.Ok).IsTrue();
        return Encoding.ASCII.GetString(body.ToArray());
    }

    [Test]
    public async Task Kept_alive_connections_are_reused_and_closed_descriptors_are_registered_afresh()
    {
        await using var server = new Server();
        await using var engine = EngineHarness.Start();
        var loop = engine.Executor.Loops[0];
        var closes = 0;
        for (var i = 0; i < 60; i++)
        {
            // Runs of kept-alive requests on one connection, then one the server closes: libcurl closes that socket,
            // and the next request's socket usually gets the very same descriptor number.
            var path = i % 4 == 3 ? "/close" : "/keep";
            if (path == "/close") closes++;
            await Assert.That(await GetAsync(engine, server.Port, path)).IsEqualTo("path=" + path);
        }
        // One connection per run: each /close ends one, the kept-alive ones between are reused.
        await Assert.That(server.Accepted).IsEqualTo(closes);
        await Assert.That(loop.SocketsClosed).IsGreaterThanOrEqualTo(closes);
    }

    [Test]
    public async Task A_parked_connection_the_server_closes_does_not_spin_the_loop()
    {
        await using var server = new Server();
        await using var engine = EngineHarness.Start();
        var loop = engine.Executor.Loops[0];
        await Assert.That(await GetAsync(engine, server.Port, "/linger-close")).IsEqualTo("path=/linger-close");
        // The connection now sits idle in libcurl's cache, its socket parked in epoll; the server closes it.
        for (var deadline = DateTime.UtcNow.AddSeconds(10); server.LingerClosed < 1; await Task.Delay(10))
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the server never closed the connection");
        await Task.Delay(100); // the FIN reaches the parked socket: one event, then the socket is unregistered
        var before = loop.Turns;
        await Task.Delay(500);
        // An idle loop turns about once a second (its longest wait); a readable socket left registered would turn
        // it as fast as epoll_wait returns, hundreds of thousands of times in half a second.
        await Assert.That(loop.Turns - before).IsLessThan(50);
        // The dead connection is found and replaced: the next request works on a new connection.
        await Assert.That(await GetAsync(engine, server.Port, "/keep")).IsEqualTo("path=/keep");
        await Assert.That(server.Accepted).IsEqualTo(2);
    }
}
