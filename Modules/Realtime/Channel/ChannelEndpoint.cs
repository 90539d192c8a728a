// GET /api/v1/curl/channel: the WebSocket request channel (docs/api.md (Channel)). Tunables are read before the
// upgrade so a bad value is a plain 400 in the contract's error shape; then the socket runs until the
// client closes, the idle timeout, or shutdown (close 1001).
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace HoodyCurl.Realtime.Channel;

internal sealed class ChannelEndpoint(ChannelServices services, IHostApplicationLifetime host)
{
    public async Task RunAsync(HttpContext context)
    {
        var limits = ChannelLimits.Read(context.Request.Query, services.Requests.MaxRequestBodyBytes);
        if (!context.WebSockets.IsWebSocketRequest)
            throw new ApiErrorException(ApiError.Validation("this route speaks WebSocket: send a GET with Upgrade: websocket"));
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var connection = new ChannelConnection(socket, limits, services, context.RequestAborted);
        await connection.RunAsync(host.ApplicationStopping).ConfigureAwait(false);
    }
}
