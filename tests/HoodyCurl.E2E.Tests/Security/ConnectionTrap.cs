// Listeners on addresses the SSRF guard must never let the sidecar reach: 127.0.0.2 (loopback but not
// the allowed 127.0.0.1/32), 127.0.0.1 and ::1 on the same port (where 0.0.0.0, [::] and the
// IPv4-embedding forms would land). Every accepted connection is counted, so a test can prove that a
// refused request opened no socket at all.
using System.Net;
using System.Net.Sockets;

namespace HoodyCurl.E2E.Tests.Security;

public sealed class ConnectionTrap : IAsyncDisposable
{
    public static readonly IPAddress OtherLoopback = IPAddress.Parse("127.0.0.2");

    private readonly List<TcpListener> _listeners;
    private readonly List<string> _accepted = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    private ConnectionTrap(int port, List<TcpListener> listeners, bool hasIpv6)
    {
        Port = port;
        _listeners = listeners;
        HasIpv6Loopback = hasIpv6;
        foreach (var listener in listeners) _loops.Add(AcceptLoopAsync(listener));
    }

    /// <summary>The one port every trap listener is bound to.</summary>
    public int Port { get; }

    /// <summary>Whether [::1] is trapped too (the host may have no IPv6 loopback).</summary>
    public bool HasIpv6Loopback { get; }

    /// <summary>Every connection the traps accepted, as "local &lt;- remote".</summary>
    public IReadOnlyList<string> Accepted { get { lock (_accepted) return [.. _accepted]; } }

    /// <summary>Binds 127.0.0.2, 127.0.0.1 and (when it exists) ::1 on one free port.</summary>
    public static ConnectionTrap Start()
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var listeners = new List<TcpListener>();
            try
            {
                var first = new TcpListener(OtherLoopback, 0);
                first.Start();
                listeners.Add(first);
                var port = ((IPEndPoint)first.LocalEndpoint).Port;
                var second = new TcpListener(IPAddress.Loopback, port);
                second.Start();
                listeners.Add(second);
                var hasIpv6 = false;
                if (Socket.OSSupportsIPv6)
                {
                    try
                    {
                        var third = new TcpListener(IPAddress.IPv6Loopback, port);
                        third.Start();
                        listeners.Add(third);
                        hasIpv6 = true;
                    }
                    catch (SocketException e) when (e.SocketErrorCode != SocketError.AddressAlreadyInUse)
                    {
                        // No IPv6 loopback on this host: the IPv4 traps still hold.
                    }
                }
                return new ConnectionTrap(port, listeners, hasIpv6);
            }
            catch (SocketException)
            {
                foreach (var l in listeners) l.Stop();
            }
        }
        throw new InvalidOperationException("could not bind the connection trap on 127.0.0.2, 127.0.0.1 and ::1");
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync(_stop.Token);
                lock (_accepted) _accepted.Add($"{listener.LocalEndpoint} <- {client.Client.RemoteEndPoint}");
            }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var listener in _listeners) listener.Stop();
        try { await Task.WhenAll(_loops); } catch (Exception) { }
        _stop.Dispose();
    }
}
