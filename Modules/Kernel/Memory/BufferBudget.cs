// The process-wide budget for response bodies held in memory (issue 12 §3, issue 16 item 5):
// --max-buffered-bytes, shared by every place that buffers a body (the json envelope, job records
// with an inline body). Each reserves as its buffer grows and gives it back when done; when the budget
// is spent the caller answers 503 QUEUE_FULL with Retry-After instead of growing the process until the
// kernel kills it.
using System.CommandLine;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Kernel.Memory;

public sealed class BufferBudget
{
    /// <summary>Default of --max-buffered-bytes: 256 MiB.</summary>
    public const long DefaultMaxBytes = 256L * 1024 * 1024;
    /// <summary>Seconds a caller refused for the budget is told to wait (Retry-After).</summary>
    public const int RetryAfterSeconds = 2;

    public static readonly Option<long> MaxBufferedBytesFlag = new("--max-buffered-bytes")
    {
        Description = "Bytes of response bodies held in memory at once, process-wide (json envelopes, inline job bodies); beyond it 503 QUEUE_FULL with Retry-After",
        DefaultValueFactory = _ => DefaultMaxBytes,
    };

    private readonly Gauge? _gauge;
    private readonly Counter? _rejected;
    private long _reserved;

    public BufferBudget(long maxBytes, MetricsRegistry? metrics = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        MaxBytes = maxBytes;
        if (metrics is null) return;
        _gauge = metrics.Gauge("hoody_curl_buffered_bytes", "Bytes of response bodies held in memory now, reserved from --max-buffered-bytes.");
        _rejected = metrics.Counter("hoody_curl_buffer_budget_rejections_total",
            "Buffered answers refused (503 QUEUE_FULL) because --max-buffered-bytes was spent.");
        metrics.Gauge("hoody_curl_buffered_bytes_limit", "The --max-buffered-bytes budget.").Set(maxBytes);
    }

    public static void AddFlags(Command command) => command.Options.Add(MaxBufferedBytesFlag);

    public static long FromFlags(ParseResult flags) => FlagReader.Positive(flags, MaxBufferedBytesFlag);

    /// <summary>The budget, in bytes.</summary>
    public long MaxBytes { get; }

    /// <summary>Bytes reserved now.</summary>
    public long Reserved => Interlocked.Read(ref _reserved);

    /// <summary>Reserves <paramref name="bytes"/>; false (and counted) when that would pass the budget.</summary>
    public bool TryReserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        while (true)
        {
            var held = Interlocked.Read(ref _reserved);
            if (bytes > MaxBytes - held)
            {
                _rejected?.Inc();
                return false;
            }
            if (Interlocked.CompareExchange(ref _reserved, held + bytes, held) == held) break;
        }
        _gauge?.Inc(bytes);
        return true;
    }

    /// <summary>Gives back <paramref name="bytes"/> reserved earlier.</summary>
    public void Release(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0) return;
        var after = Interlocked.Add(ref _reserved, -bytes);
        if (after < 0)
        {
            Interlocked.Add(ref _reserved, bytes);
            throw new InvalidOperationException($"released {bytes} bytes more than were reserved");
        }
        _gauge?.Dec(bytes);
    }

    /// <summary>A reservation that grows with its buffer and is given back in full on dispose.</summary>
    public Lease OpenLease() => new(this);

    /// <summary>The 503 answer for a refused buffer.</summary>
    public ApiError Exhausted() => new(503, ErrorCodes.QueueFull,
        $"too many response bodies are held in memory (--max-buffered-bytes is {MaxBytes} bytes); retry later, or use response=transparent, save or mode=async")
    { RetryAfterSeconds = RetryAfterSeconds };

    public sealed class Lease : IDisposable
    {
        private readonly BufferBudget _budget;
        private long _held;

        internal Lease(BufferBudget budget) => _budget = budget;

        /// <summary>Bytes this lease holds.</summary>
        public long Held => _held;

        /// <summary>Reserves <paramref name="bytes"/> more; false when the budget is spent (the lease keeps what it had).</summary>
        public bool TryGrow(long bytes)
        {
            if (!_budget.TryReserve(bytes)) return false;
            _held += bytes;
            return true;
        }

        /// <summary>Reserves <paramref name="bytes"/> more or throws the 503 QUEUE_FULL answer.</summary>
        public void Grow(long bytes)
        {
            if (!TryGrow(bytes)) throw new ApiErrorException(_budget.Exhausted());
        }

        public void Dispose()
        {
            var held = _held;
            _held = 0;
            _budget.Release(held);
        }
    }
}
