// The cache's metric families, names and labels exactly as docs/metrics.md lists them.
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Cache;

internal sealed class CacheMetrics
{
    public CacheMetrics(MetricsRegistry registry)
    {
        Enabled = registry.Gauge("hoody_curl_cache_enabled", "1 when caching is active (namespace set and mode is not off), else 0");
        Hits = registry.Counter("hoody_curl_cache_hit_total", "Responses served from cache");
        Misses = registry.Counter("hoody_curl_cache_miss_total", "Cacheable lookups that found nothing usable");
        Bytes = registry.Gauge("hoody_curl_cache_object_bytes_stored", "Bytes stored in the cache (bodies and index)");
        Objects = registry.Gauge("hoody_curl_cache_object_count_stored", "Objects (distinct bodies) stored in the cache");
        PinMismatch = registry.Counter("hoody_curl_cache_pin_mismatch_total", "DNS-rebind defence activations (stored pin IP not in the current resolved set)");
        SkipRequest = registry.Counter("hoody_curl_cache_skip_request_total", "Requests not eligible for caching", "reason");
        SkipResponse = registry.Counter("hoody_curl_cache_skip_response_total", "Responses not stored", "reason");
        Bypass = registry.Counter("hoody_curl_cache_bypass_total", "Lookups bypassed", "reason");
        Corrupt = registry.Counter("hoody_curl_cache_corrupt_total", "Entries found corrupt on read (removed)", "reason");
        Evicted = registry.Counter("hoody_curl_cache_evicted_total", "Entries evicted to keep the directory under --cache-max-bytes");
    }

    public Gauge Enabled { get; }
    public Counter Hits { get; }
    public Counter Misses { get; }
    public Gauge Bytes { get; }
    public Gauge Objects { get; }
    public Counter PinMismatch { get; }
    public Counter SkipRequest { get; }
    public Counter SkipResponse { get; }
    public Counter Bypass { get; }
    public Counter Corrupt { get; }
    public Counter Evicted { get; }
}
