// The listen socket, bound by the host itself before anything touches the storage dir: a port clash
// then fails the start-up with one line and changes nothing on disk, and `--listen 127.0.0.1:0` knows
// its real port before the modules (the SSRF guard's own-endpoint rule) read it. Kestrel serves on this
// socket through ListenHandle; it does not own the descriptor, the host disposes the socket at exit.
using System.Net;
using System.Net.Sockets;
using HoodyCurl.Kernel;

namespace HoodyCurl.Host;

internal static class ListenSocket
{
    private const int Backlog = 512;

    public static Socket Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            socket.Bind(endpoint);
            socket.Listen(Backlog); // connections that arrive during start-up wait in the backlog
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            var what = e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "cannot listen: address already in use",
                SocketError.AccessDenied => "cannot listen: permission denied (ports below 1024 need privileges)",
                SocketError.AddressNotAvailable => "cannot listen: this machine has no such address",
                _ => "cannot listen: " + e.Message,
            };
            throw new StartupException(what, Format(endpoint), e);
        }
    }

    public static string Format(IPEndPoint endpoint) => endpoint.AddressFamily == AddressFamily.InterNetworkV6
        ? $"[{endpoint.Address}]:{endpoint.Port}"
        : $"{endpoint.Address}:{endpoint.Port}";
}
