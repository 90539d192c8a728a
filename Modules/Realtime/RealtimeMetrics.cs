// The realtime module's Prometheus families (free names under hoody_curl_, ops.md §3): WebSocket
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
    }

    public Gauge WsSubscribers { get; }
    public Counter Delivered { get; }
    public Counter Lagged { get; }
}

internal static class Transports
{
    public const string Ws = "ws";
    public const string Sse = "sse";
}
