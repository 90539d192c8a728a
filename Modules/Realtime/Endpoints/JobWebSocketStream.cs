// GET /ws: job events over a WebSocket (docs/api.md (Events)): one text frame per event with its `type`,
// `?job_id=` filter, `?after=N` replay from the durable log as on /sse. Pings every --ws-ping-secs and
// drops a peer that sends no pong for --ws-drop-secs (the runtime's keep-alive timeout, which needs the
// receive loop below to read the pongs). Client messages are read and ignored; a close is answered.
// The socket's kernel send buffer is fixed (--ws-send-buffer-bytes): a peer that stops reading fills it, the sender
// then waits (nothing more goes into the server's output buffer for it), its bounded subscriber buffer fills, and it
// is told how many events it missed.
using System.Net.WebSockets;
using HoodyCurl.Jobs;
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace HoodyCurl.Realtime.Endpoints;

internal sealed class JobWebSocketStream(IJobEvents events, RealtimeOptions options, RealtimeMetrics metrics, IHostApplicationLifetime host)
{
    public async Task RunAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            throw new ApiErrorException(ApiError.Validation("this route speaks WebSocket: send a GET with Upgrade: websocket"));
        var query = StreamQuery.Read(context.Request, useLastEventId: false);
        using var subscription = events.Subscribe(query.JobId, options.SubscriberBuffer);
        var feed = new EventFeed(subscription.Reader, subscription.TakeMissed,
            (after, limit) => events.ReadAfter(after, query.JobId, limit), query.After, options.ReplayPage);

        var tcp = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (tcp is not null) tcp.SendBufferSize = options.WsSendBufferBytes;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = TimeSpan.FromSeconds(options.WsPingSecs),
            KeepAliveTimeout = TimeSpan.FromSeconds(options.WsDropSecs - options.WsPingSecs),
        }).ConfigureAwait(false);
        metrics.WsSubscribers.Inc();
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, host.ApplicationStopping);
        var receiving = ReceiveUntilCloseAsync(socket, closed);
        try
        {
            await SendAsync(socket, tcp, feed, closed.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The peer went away, closed, or stopped answering pings.
        }
        finally
        {
            metrics.WsSubscribers.Dec();
            if (host.ApplicationStopping.IsCancellationRequested && socket.State == WebSocketState.Open)
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                try { await socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "shutting down", quick.Token).ConfigureAwait(false); }
                catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException) { }
            }
            await closed.CancelAsync().ConfigureAwait(false);
            socket.Abort();
            await receiving.ConfigureAwait(false);
        }
    }

    /// <summary>How often a subscriber whose socket is full is looked at again.</summary>
    private static readonly TimeSpan FullSocketRecheck = TimeSpan.FromMilliseconds(10);

    private async Task SendAsync(WebSocket socket, System.Net.Sockets.Socket? tcp, EventFeed feed, CancellationToken token)
    {
        var delivered = metrics.Delivered.WithLabels(Transports.Ws);
        var lagged = metrics.Lagged.WithLabels(Transports.Ws);
        // The server's output buffer above the socket holds up to 1 MiB (Server.cs): a subscriber that stops reading is
        // recognised by its kernel send queue instead, and nothing more is written for it until that drains; its
        // events wait in its bounded subscriber buffer meanwhile, and it is told how many it missed.
        // A full send queue holds more than the configured size (Linux doubles SO_SNDBUF for its bookkeeping: 96-128 KiB of
        // data at 64 KiB), so waiting from there on leaves the kernel room and the server's buffer empty. The kernel may
        // clamp the size (net.core.wmem_max): then half of what it granted.
        // The queue is read once a quarter of that has been written since it last had room, not per frame (one ioctl per
        // event was 600,000 syscalls in the 200-subscriber fan-out): at most that much more reaches the server's buffer.
        var full = tcp is null ? 0 : Math.Max(1, Math.Min(options.WsSendBufferBytes, SendBufferOf(tcp) / 2));
        var checkEvery = Math.Max(1, full / 4);
        long sinceCheck = 0;
        while (!token.IsCancellationRequested)
        {
            if (tcp is not null && sinceCheck >= checkEvery)
            {
                if (Kernel.Http.SocketSendQueue.Bytes(tcp) >= full)
                {
                    await Task.Delay(FullSocketRecheck, token).ConfigureAwait(false);
                    continue;
                }
                sinceCheck = 0;
            }
            if (feed.TryNext(out var item))
            {
                var frame = item.Event is { } e ? JobEventFrames.Ws(e) : JobEventFrames.WsLag(item.Missed);
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, token).ConfigureAwait(false);
                sinceCheck += frame.Length;
                if (item.Event is not null) delivered.Inc();
                else lagged.Inc(item.Missed);
                continue;
            }
            if (!await feed.WaitAsync(token).ConfigureAwait(false)) return; // the subscription ended (shutdown)
        }
    }

    private static int SendBufferOf(System.Net.Sockets.Socket tcp)
    {
        try { return tcp.SendBufferSize; }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException) { return int.MaxValue; }
    }

    /// <summary>Reads (and ignores) what the client sends, which also processes its pongs; a close or an error ends the stream.</summary>
    private static async Task ReceiveUntilCloseAsync(WebSocket socket, CancellationTokenSource closed)
    {
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, closed.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (socket.State == WebSocketState.CloseReceived)
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            try { await closed.CancelAsync().ConfigureAwait(false); } catch (ObjectDisposedException) { }
        }
    }
}
