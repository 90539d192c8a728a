// How many bytes a TCP socket's kernel send queue holds (sent but not yet acknowledged, or not sent yet): the
// sign that a peer has stopped reading, whatever the server buffers above the socket. Linux only (SIOCOUTQ).
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HoodyCurl.Kernel.Http;

public static partial class SocketSendQueue
{
    private const nuint Siocoutq = 0x5411; // SIOCOUTQ == TIOCOUTQ on Linux

    /// <summary>Bytes in <paramref name="socket"/>'s kernel send queue, or -1 when that cannot be read (closed, not Linux).</summary>
    public static int Bytes(Socket socket)
    {
        if (!OperatingSystem.IsLinux()) return -1;
        try
        {
            return Ioctl((int)socket.Handle, Siocoutq, out var queued) == 0 ? queued : -1;
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, out int value);
}
