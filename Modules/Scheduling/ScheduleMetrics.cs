// The scheduling module's Prometheus families (listed in docs/metrics.md).
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Scheduling;

internal sealed class ScheduleMetrics
{
    public const string Submitted = "submitted";
    public const string SkippedRunning = "skipped_running";
    public const string SkippedQueueFull = "skipped_queue_full";
    public const string Failed = "failed";

    /// <summary>Lag is milliseconds when healthy and seconds under overload; fine buckets at the low end.</summary>
    private static readonly double[] LagBuckets =
        [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly Counter _firings;

    public ScheduleMetrics(MetricsRegistry registry)
    {
        Enabled = registry.Gauge("hoody_curl_schedules_enabled", "Schedules that are enabled and planned to fire.");
        _firings = registry.Counter("hoody_curl_schedule_firings_total",
            "Schedule firings by result: submitted, skipped_running, skipped_queue_full, failed.", "result");
        // Every result appears from the first scrape, at zero.
        foreach (var result in new[] { Submitted, SkippedRunning, SkippedQueueFull, Failed }) _firings.WithLabels(result);
        Lag = registry.Histogram("hoody_curl_schedule_lag_seconds",
            "Seconds from a firing's planned time to the moment the scheduler handed it to the job service (actual - planned).", LagBuckets);
    }

    public Gauge Enabled { get; }

    public Histogram Lag { get; }

    public void Fired(string result) => _firings.WithLabels(result).Inc();
}
