// The engine's Prometheus families: the hoody_curl_pool_* names of docs/metrics.md, request
// outcomes by door (never by URL), and SSRF denials by rule.
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Requests.Engine;

internal sealed class EngineMetrics
{
    public EngineMetrics(MetricsRegistry registry)
    {
        PoolTakes = registry.Counter("hoody_curl_pool_takes_total", "Handle requests made to the pool (hit or miss).");
        PoolHits = registry.Counter("hoody_curl_pool_hits_total", "Takes satisfied by a warm pooled handle.");
        PoolMisses = registry.Counter("hoody_curl_pool_misses_total", "Takes that had to create a fresh handle.");
        PoolPuts = registry.Counter("hoody_curl_pool_puts_total", "Handles returned to the pool after use.");
        PoolEvictions = registry.Counter("hoody_curl_pool_evictions_total", "Handles dropped from the pool.", "reason");
        PoolBypasses = registry.Counter("hoody_curl_pool_bypasses_total", "Transfers whose handle did not go through or back to the pool.", "reason");
        PoolIdle = registry.Gauge("hoody_curl_pool_idle", "Handles currently idle in the pool.");
        foreach (var reason in new[] { "per_origin", "global", "shutdown" }) PoolEvictions.WithLabels(reason);
        foreach (var reason in new[] { "non_default_security", "cancellation", "promoted", "session" }) PoolBypasses.WithLabels(reason);
        Requests = registry.Counter("hoody_curl_requests_total", "Requests finished (relayed, or served from the cache), by door and outcome.", "door", "outcome");
        Duration = registry.Histogram("hoody_curl_request_duration_seconds", "Upstream request duration, by door and outcome.",
            Histogram.LatencyBuckets, "door", "outcome");
        Active = registry.Gauge("hoody_curl_transfers_active", "Transfers currently running in libcurl.");
        Waiting = registry.Gauge("hoody_curl_transfers_waiting", "Transfers queued on a busy transfer thread for room to start (--max-busy-transfers).");
        Retries = registry.Counter("hoody_curl_request_retries_total", "Retries of requests after network errors.");
        SsrfDenied = registry.Counter("hoody_curl_ssrf_denied_total", "Requests or connections refused by the SSRF guard, by rule.", "reason");
        BytesDown = registry.Counter("hoody_curl_upstream_received_bytes_total", "Body bytes received from upstreams.");
        SyncRejected = registry.Counter("hoody_curl_sync_rejected_total", "Sync requests refused because --max-concurrent-sync was reached.");
        SyncInFlight = registry.Gauge("hoody_curl_sync_in_flight", "Requests holding a --max-concurrent-sync permit: sync REST requests and executing channel streams.");
        ConnectionsOpened = registry.Counter("hoody_curl_upstream_connections_opened_total", "Upstream TCP connections opened (to the target or the --upstream-proxy); compare with hoody_curl_requests_total for connection reuse.");
        BackPressurePauses = registry.Counter("hoody_curl_transfer_pauses_total", "Transfers paused because their reader (caller, file, socket) fell a pipe's worth behind.");
    }

    public Counter BackPressurePauses { get; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Door, string Outcome), (Counter.Child Requests, Histogram.Child Duration)> _finished = new();

    /// <summary>
    /// Counts one finished request (relayed or served from the cache) in hoody_curl_requests_total and its duration
    /// histogram. The (door, outcome) series are resolved once: prometheus-net's WithLabels builds a label sequence per call.
    /// </summary>
    public void RequestFinished(string door, string outcome, TimeSpan elapsed)
    {
        var series = _finished.GetOrAdd((door, outcome), static (k, m) => (m.Requests.WithLabels(k.Door, k.Outcome), m.Duration.WithLabels(k.Door, k.Outcome)), this);
        series.Requests.Inc();
        series.Duration.Observe(elapsed.TotalSeconds);
    }
    public Counter ConnectionsOpened { get; }

    public Counter PoolTakes { get; }
    public Counter PoolHits { get; }
    public Counter PoolMisses { get; }
    public Counter PoolPuts { get; }
    public Counter PoolEvictions { get; }
    public Counter PoolBypasses { get; }
    public Gauge PoolIdle { get; }
    public Counter Requests { get; }
    public Histogram Duration { get; }
    public Gauge Active { get; }
    public Gauge Waiting { get; }
    public Counter Retries { get; }
    public Counter SsrfDenied { get; }
    public Counter BytesDown { get; }
    public Counter SyncRejected { get; }
    public Gauge SyncInFlight { get; }
}
