// The sessions module's Prometheus families (listed in docs/metrics.md).
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Sessions;

internal sealed class SessionMetrics(MetricsRegistry registry)
{
    /// <summary>Leases held right now (transfers running on a session).</summary>
    public Gauge LeasesHeld { get; } = registry.Gauge("hoody_curl_session_leases_held", "Session leases held by running transfers.");

    /// <summary>How long transfers waited for their session's lease (serialisation of D13).</summary>
    public Histogram LeaseWait { get; } = registry.Histogram("hoody_curl_session_lease_wait_seconds",
        "Time a transfer waited for the lease of its session.", Histogram.LatencyBuckets);
}
