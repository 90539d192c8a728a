// The per-socket tunables of /api/v1/curl/channel (docs/api.md (Channel)): read from the query string, clamped
// to their hard caps, reported back in `hello.limits`. A zero, negative or non-integer value refuses the
// upgrade with 400 (docs/api.md (Channel)). Unknown parameters (e.g. `token`) are ignored.
using System.Globalization;
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Realtime.Channel;

internal sealed record ChannelLimits
{
    public const int ConcurrentDefault = 64, ConcurrentCap = 128;
    public const int QueueDefault = 128, QueueCap = 4096;
    public const int FrameDefault = 1024 * 1024;
    public const int ChunkDefault = 64 * 1024, ChunkCap = 1024 * 1024;
    public const int StreamTimeoutDefault = 300, StreamTimeoutCap = 3600;
    public const int IdleTimeoutDefault = 60, IdleTimeoutCap = 3600;
    public const int OutboundDefault = 1024, OutboundCap = 8192;

    public bool Binary { get; init; }
    public int MaxConcurrentStreams { get; init; } = ConcurrentDefault;
    public int MaxQueue { get; init; } = QueueDefault;
    public long MaxFrameBytes { get; init; } = FrameDefault;
    public long MaxRequestBytes { get; init; }
    public int ChunkBytes { get; init; } = ChunkDefault;
    public int StreamTimeoutSecs { get; init; } = StreamTimeoutDefault;
    public int IdleTimeoutSecs { get; init; } = IdleTimeoutDefault;
    public int MaxOutboundMessages { get; init; } = OutboundDefault;

    /// <summary>Reads the query; <paramref name="maxRequestBodyBytes"/> is --max-request-body-bytes (default and cap of two limits).</summary>
    public static ChannelLimits Read(IQueryCollection query, long maxRequestBodyBytes)
    {
        var concurrent = Int(query, "max_concurrent_streams") ?? Int(query, "max_concurrent") ?? Int(query, "max_pool") ?? ConcurrentDefault;
        return new ChannelLimits
        {
            Binary = query.TryGetValue("binary", out var b) && b.Count > 0 && b[^1] is { } v
                     && (v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1"),
            MaxConcurrentStreams = (int)Math.Min(concurrent, ConcurrentCap),
            MaxQueue = (int)Math.Min(Int(query, "max_queue") ?? QueueDefault, QueueCap),
            MaxFrameBytes = Math.Min(Int(query, "max_frame_bytes") ?? FrameDefault, maxRequestBodyBytes),
            MaxRequestBytes = Math.Min(Int(query, "max_request_bytes") ?? maxRequestBodyBytes, maxRequestBodyBytes),
            ChunkBytes = (int)Math.Min(Int(query, "chunk_bytes") ?? ChunkDefault, ChunkCap),
            StreamTimeoutSecs = (int)Math.Min(Int(query, "stream_timeout_secs") ?? StreamTimeoutDefault, StreamTimeoutCap),
            IdleTimeoutSecs = (int)Math.Min(Int(query, "idle_timeout_secs") ?? IdleTimeoutDefault, IdleTimeoutCap),
            MaxOutboundMessages = (int)Math.Min(Int(query, "max_outbound_messages") ?? OutboundDefault, OutboundCap),
        };
    }

    /// <summary>A positive integer, or null when absent; 400 naming the parameter otherwise. Huge values are clamped by the caller.</summary>
    private static long? Int(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var values) || values.Count == 0) return null;
        var raw = values[^1] ?? "";
        if (!long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            // All digits but too long for a long: still a positive integer, clamped to the cap.
            if (raw.Length > 0 && raw.All(char.IsAsciiDigit) && raw.TrimStart('0').Length > 0) return long.MaxValue;
            throw new ApiErrorException(ApiError.Validation(
                $"query parameter '{name}' must be a positive integer, got '{HoodyCurl.Kernel.Errors.ErrorText.Printable(raw)}'"));
        }
        if (value < 1) throw new ApiErrorException(ApiError.Validation($"query parameter '{name}' must be a positive integer, got {value}"));
        return value;
    }
}
