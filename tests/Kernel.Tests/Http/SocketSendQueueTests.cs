// SocketSendQueue reads the kernel's send queue: bytes pile up there while the peer does not read, and the
// queue empties once it does. Real sockets on loopback.
using System.Net;
using System.Net.Sockets;
using HoodyCurl.Kernel.Http;

namespace HoodyCurl.Kernel.Tests.Http;

public class SocketSendQueueTests
{
    [Test]
    public async Task The_queue_fills_while_the_peer_does_not_read_and_empties_when_it_does()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var server = await listener.AcceptAsync();
        server.SendBufferSize = 64 * 1024;
        server.Blocking = false;

        await Assert.That(SocketSendQueue.Bytes(server)).IsEqualTo(0);

        // Fill both buffers: the peer reads nothing, so the send queue keeps what its receive buffer cannot take.
        var chunk = new byte[16 * 1024];
        long sent = 0;
        for (var i = 0; i < 1000; i++)
        {
            if (server.Send(chunk, SocketFlags.None, out var error) is var n and > 0) sent += n;
            if (error == SocketError.WouldBlock) break;
        }
        var queued = SocketSendQueue.Bytes(server);
        await Assert.That(queued).IsGreaterThanOrEqualTo(32 * 1024).Because($"{sent} bytes sent");
        await Assert.That((long)queued).IsLessThanOrEqualTo(sent);

        // The peer reads everything: the queue empties (within a deadline, not after a sleep).
        var buffer = new byte[64 * 1024];
        long read = 0;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (read < sent && DateTime.UtcNow < deadline) read += await client.ReceiveAsync(buffer, SocketFlags.None);
        await Assert.That(read).IsEqualTo(sent);
        while (SocketSendQueue.Bytes(server) != 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        await Assert.That(SocketSendQueue.Bytes(server)).IsEqualTo(0);

        server.Close();
        await Assert.That(SocketSendQueue.Bytes(server)).IsEqualTo(-1); // a closed socket has no queue to read
    }
}
