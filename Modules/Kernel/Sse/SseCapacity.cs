// The process-wide --max-sse-concurrent semaphore (docs/api.md (Events); docs/design.md). Every open SSE
// stream holds one permit for its lifetime, whatever door it came in by: a promoted passthrough on
// /request, a /sse job subscriber (and, later, the channel's SSE streams). None free: the caller
// answers 503 SSE_CAPACITY with Retry-After.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Kernel.Sse;

public sealed class SseCapacity
{
    private readonly SseSettings _settings;
    private readonly Gauge _open;
    private readonly Counter _rejected;
    private int _held;

    public SseCapacity(SseSettings settings, MetricsRegistry metrics)
    {
        _settings = settings;
        _open = metrics.Gauge("hoody_curl_sse_streams_open", "SSE streams open now, by kind (passthrough, jobs, channel).", "kind");
        _rejected = metrics.Counter("hoody_curl_sse_capacity_rejections_total",
            "SSE streams refused because --max-sse-concurrent permits were all taken, by kind.", "kind");
        foreach (var kind in new[] { SseKinds.Passthrough, SseKinds.Jobs, SseKinds.Channel })
        {
            _open.WithLabels(kind);
            _rejected.WithLabels(kind);
        }
    }

    /// <summary>Permits held now.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Takes a permit for a stream of <paramref name="kind"/>; null (and counted) when none is free.</summary>
    public IDisposable? TryAcquire(string kind)
    {
        while (true)
        {
            var held = Volatile.Read(ref _held);
            if (held >= _settings.MaxConcurrent)
            {
                _rejected.WithLabels(kind).Inc();
                return null;
            }
            if (Interlocked.CompareExchange(ref _held, held + 1, held) == held) break;
        }
        var gauge = _open.WithLabels(kind);
        gauge.Inc();
        return new Permit(this, gauge);
    }

    /// <summary>The 503 answer for a refused stream (docs/api.md D2, docs/api.md (Executing requests: SSE passthrough)).</summary>
    public ApiError Refusal() => new(503, ErrorCodes.SseCapacity,
        $"too many SSE streams open (--max-sse-concurrent is {_settings.MaxConcurrent}); retry later")
    { RetryAfterSeconds = _settings.CapacityRetryAfterSecs };

    private sealed class Permit(SseCapacity owner, Gauge.Child gauge) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            gauge.Dec();
            Interlocked.Decrement(ref owner._held);
        }
    }
}

/// <summary>The `kind` label values of the SSE families.</summary>
public static class SseKinds
{
    public const string Passthrough = "passthrough";
    public const string Jobs = "jobs";
    public const string Channel = "channel";
}
