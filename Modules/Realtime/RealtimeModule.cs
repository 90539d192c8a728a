// The realtime module: its flags, its services (metrics, the two stream handlers) and the /ws and
// /sse endpoints. It reaches the jobs module only through IJobEvents, and takes its SSE permits from
// Kernel's process-wide SseCapacity, shared with the sync passthrough of Requests.
using System.CommandLine;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Realtime.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HoodyCurl.Realtime;

public sealed class RealtimeModule : IModule
{
    private static readonly RealtimeOptions Defaults = new();

    private Option<int>? _heartbeat;
    private Option<int>? _ping;
    private Option<int>? _drop;
    private Option<int>? _buffer;
    private Option<int>? _sendBuffer;

    public void AddFlags(Command command)
    {
        _heartbeat = FlagReader.Define(command, "--sse-heartbeat-secs",
            "Seconds without a write after which /sse sends a ':' comment", Defaults.HeartbeatSecs);
        _ping = FlagReader.Define(command, "--ws-ping-secs",
            "Seconds between WebSocket pings on /ws", Defaults.WsPingSecs);
        _drop = FlagReader.Define(command, "--ws-drop-secs",
            "Seconds without a pong after which /ws drops the connection (more than --ws-ping-secs)", Defaults.WsDropSecs);
        _buffer = FlagReader.Define(command, "--event-subscriber-buffer",
            "Job events buffered per /ws or /sse subscriber before it is sent a lag notice", Defaults.SubscriberBuffer);
        _sendBuffer = FlagReader.Define(command, "--ws-send-buffer-bytes",
            "Kernel send buffer of each /ws socket, in bytes (fixed, so a subscriber that stops reading is detected)", Defaults.WsSendBufferBytes);
    }

    public void AddServices(IServiceCollection services, ParseResult flags)
    {
        if (_heartbeat is null) throw new InvalidOperationException("AddFlags must run before AddServices");
        var options = Read(flags);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton<RealtimeMetrics>();
        services.AddSingleton<JobSseStream>();
        services.AddSingleton<JobWebSocketStream>();
        services.AddSingleton(sp => new Channel.ChannelServices(
            sp.GetRequiredService<HoodyCurl.Requests.IRequestExecutor>(), sp.GetRequiredService<HoodyCurl.Requests.RequestsOptions>(),
            sp.GetRequiredService<HoodyCurl.Requests.ISyncLimiter>(),
            sp.GetRequiredService<HoodyCurl.Kernel.Sse.SseSettings>(), sp.GetRequiredService<HoodyCurl.Kernel.Sse.SseCapacity>(),
            sp.GetRequiredService<RealtimeMetrics>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<HoodyCurl.Storage.IFileStore>(),
            sp.GetService<HoodyCurl.Cache.IResponseCache>()?.Enabled == true));
        services.AddSingleton<Channel.ChannelEndpoint>();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.ServiceProvider.GetRequiredService<RealtimeMetrics>(); // its families are on /metrics from the start
        endpoints.MapRealtime();
    }

    private RealtimeOptions Read(ParseResult flags)
    {
        var ping = FlagReader.Positive(flags, _ping!);
        var drop = FlagReader.Positive(flags, _drop!);
        if (drop <= ping) throw new FlagException(_drop!.Name, $"must be more than --ws-ping-secs ({ping}), got {drop}");
        return new RealtimeOptions
        {
            HeartbeatSecs = FlagReader.Positive(flags, _heartbeat!),
            WsPingSecs = ping,
            WsDropSecs = drop,
            SubscriberBuffer = FlagReader.Positive(flags, _buffer!),
            WsSendBufferBytes = FlagReader.Positive(flags, _sendBuffer!),
        };
    }
}
