// The storage module's Prometheus families (listed in docs/metrics.md).
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Storage;

internal sealed class StorageMetrics(MetricsRegistry registry)
{
    public Counter Saved { get; } = registry.Counter("hoody_curl_storage_saved_total", "Files saved to storage (save: true).");

    public Counter SavedBytes { get; } = registry.Counter("hoody_curl_storage_saved_bytes_total", "Bytes saved to storage.");

    public Counter Deleted { get; } = registry.Counter("hoody_curl_storage_deleted_total", "Saved files deleted.");

    /// <summary>reason: too_large, io, transfer, cancelled, invalid.</summary>
    public Counter SaveFailures { get; } = registry.Counter("hoody_curl_storage_save_failures_total", "Saves that left nothing behind.", "reason");
}
