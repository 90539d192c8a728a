// The realtime module's Prometheus families (listed in docs/metrics.md): WebSocket
// subscribers (the /sse ones are hoody_curl_sse_streams_open{kind="jobs"} of Kernel's SseCapacity),
// events delivered and events missed by lagging subscribers, per transport.
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Realtime;

internal sealed class RealtimeMetrics
{
    public RealtimeMetrics(MetricsRegistry registry)
    {
        WsSubscribers = registry.Gauge("hoody_curl_ws_subscribers", "WebSocket job-event subscribers connected to /ws now.");
        Delivered = registry.Counter("hoody_curl_job_events_delivered_total", "Job events written to /ws and /sse subscribers, by transport.", "transport");
        Lagged = registry.Counter("hoody_curl_job_events_lagged_total", "Job events dropped for subscribers that fell behind their buffer, by transport.", "transport");
        foreach (var transport in new[] { Transports.Ws, Transports.Sse })
        {
            Delivered.WithLabels(transport);
            Lagged.WithLabels(transport);
        }
        ChannelsOpen = registry.Gauge("hoody_curl_channel_connections", "Request-channel WebSockets (/api/v1/curl/channel) open now.");
        Streams = registry.Counter("hoody_curl_channel_streams_total",
            "Request-channel streams finished, by outcome (ok, invalid, queue_full, cancelled, timeout, error, aborted, sse_capacity, sse_max_duration).", "outcome");
        foreach (var outcome in new[] { "ok", "invalid", "queue_full", "cancelled", "timeout", "error", "aborted", "sse_capacity", "sse_max_duration" })
            Streams.WithLabels(outcome);
        StreamsQueued = registry.Gauge("hoody_curl_channel_streams_queued", "Request-channel streams waiting for an execution slot (max_concurrent_streams) or a --max-concurrent-sync permit now.");
        ChannelBytes = registry.Counter("hoody_curl_channel_bytes_total", "WebSocket message bytes on the request channel, by direction (in, out).", "direction");
        ChannelBytes.WithLabels("in");
        ChannelBytes.WithLabels("out");
        BackPressurePauses = registry.Counter("hoody_curl_channel_backpressure_pauses_total",
            "Times a channel stream had to wait for room in its socket's outbound queue (its upstream transfer then pauses).");
    }

    public Gauge ChannelsOpen { get; }
    public Counter Streams { get; }
    public Gauge StreamsQueued { get; }
    public Counter ChannelBytes { get; }
    public Counter BackPressurePauses { get; }

    public Gauge WsSubscribers { get; }
    public Counter Delivered { get; }
    public Counter Lagged { get; }
}

internal static class Transports
{
    public const string Ws = "ws";
    public const string Sse = "sse";
}
