// The jobs module's Prometheus families (listed in docs/metrics.md).
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Jobs;

internal sealed class JobMetrics
{
    /// <summary>Job durations run from seconds to the 1 h timeout cap.</summary>
    private static readonly double[] DurationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    private readonly Counter _finished;
    private readonly Histogram _duration;

    public JobMetrics(MetricsRegistry registry)
    {
        _finished = registry.Counter("hoody_curl_jobs_total", "Jobs that reached a terminal state, by status.", "status");
        QueueDepth = registry.Gauge("hoody_curl_jobs_queue_depth", "Jobs waiting for a worker.");
        Running = registry.Gauge("hoody_curl_jobs_running", "Jobs executing now.");
        _duration = registry.Histogram("hoody_curl_job_duration_seconds", "Run time of jobs that ran, from start to terminal state, by status.", DurationBuckets, "status");
    }

    public Gauge QueueDepth { get; }
    public Gauge Running { get; }

    public void Finished(string status, TimeSpan? ranFor)
    {
        _finished.WithLabels(status).Inc();
        if (ranFor is { } d) _duration.WithLabels(status).Observe(Math.Max(0, d.TotalSeconds));
    }
}
