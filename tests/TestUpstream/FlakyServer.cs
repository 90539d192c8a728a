using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HoodyCurl.TestUpstream;

/// <summary>
/// A raw TCP server on 127.0.0.1 that kills the first <c>dropFirst</c> connections without sending a
/// byte and answers every later request with "ok after N drops", for retry tests. Raw sockets
/// because Kestrel cannot be made to drop a connection before the request is read.
/// </summary>
public sealed class FlakyServer : IAsyncDisposable
{
    private const int MaxRequestHeadBytes = 1024 * 1024;

    private readonly TcpListener _listener;
    private readonly int _dropFirst;
    private readonly FlakyDrop _drop;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private readonly List<Task> _connections = [];
    private int _accepted;
    private int _disposed;

    private FlakyServer(int dropFirst, FlakyDrop drop)
    {
        _dropFirst = dropFirst;
        _drop = drop;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        BaseUrl = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}");
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    public string BaseUrl { get; }

    /// <summary>Connections accepted so far, dropped ones included.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <param name="dropFirst">How many connections to kill right after accepting them.</param>
    /// <param name="drop">How they die: RST (default) or an orderly FIN.</param>
    public static FlakyServer Start(int dropFirst, FlakyDrop drop = FlakyDrop.Reset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dropFirst);
        return new FlakyServer(dropFirst, drop);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            int number = Interlocked.Increment(ref _accepted);
            Task connection = number <= _dropFirst ? DropAsync(socket) : AnswerAsync(socket);
            lock (_connections)
            {
                _connections.RemoveAll(task => task.IsCompleted);
                _connections.Add(connection);
            }
        }
    }

    private async Task DropAsync(Socket socket)
    {
        using (socket)
        {
            if (_drop == FlakyDrop.Reset)
            {
                // Linger on with a zero timeout turns close() into an RST.
                socket.LingerState = new LingerOption(true, 0);
                return;
            }
            try
            {
                // FIN first, then read until the client closes: closing with its request still
                // unread would make the kernel send an RST instead.
                socket.Shutdown(SocketShutdown.Send);
                using var stream = new NetworkStream(socket, ownsSocket: false);
                await RawHttp.DrainAsync(stream, _stopping.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // The client already went away.
            }
        }
    }

    private async Task AnswerAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                using var stream = new NetworkStream(socket, ownsSocket: false);
                await RawHttp.ReadRequestAsync(stream, MaxRequestHeadBytes, _stopping.Token);
                byte[] body = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"ok after {_dropFirst} drops"));
                byte[] head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                    $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
                await stream.WriteAsync(head, _stopping.Token);
                await stream.WriteAsync(body, _stopping.Token);
                // FIN after the response, then wait for the client's close so unread input never turns into an RST.
                socket.Shutdown(SocketShutdown.Send);
                await RawHttp.DrainAsync(stream, _stopping.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // The client gave up or the server is stopping; nothing to answer.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stopping.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }
        await Task.WhenAll(connections);
        _stopping.Dispose();
    }
}
