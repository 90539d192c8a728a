// Source-generated log messages of the engine. One line per request decision; never a secret (the
// upstream is logged as scheme://host:port only, no path or query).
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Requests.Engine;

internal static partial class Log
{
    private static readonly EventId RequestFinishedEvent = new(1, nameof(RequestFinished));

    /// <summary>
    /// The access line, one per request: "request {RequestId} door={Door} decision={Decision} reason={Reason}
    /// upstream={Upstream} status={Status} bytes={Bytes} duration_ms={DurationMs} attempts={Attempts}". Written by hand
    /// rather than by [LoggerMessage] so the console sink can write it as UTF-8 itself (<see cref="AccessLine"/>).
    /// </summary>
    public static void RequestFinished(ILogger logger, string requestId, string door, string decision, string reason,
        string upstream, int status, long bytes, long durationMs, int attempts)
    {
        logger.Log(LogLevel.Information, RequestFinishedEvent,
            new AccessLine(requestId, door, decision, reason, upstream, status, bytes, durationMs, attempts), null, AccessLine.Format);
    }

    [LoggerMessage(EventId = 6, Level = LogLevel.Information,
        Message = "request {RequestId} door={Door} decision=rejected reason={Reason} status={Status}")]
    public static partial void RequestRejected(ILogger logger, string requestId, string door, string reason, int status);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "request {RequestId} denied by the SSRF guard: rule={Rule} address={Address} upstream={Upstream}")]
    public static partial void SsrfDenied(ILogger logger, string requestId, string rule, string? address, string upstream);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "request {RequestId} attempt {Attempt} failed before a response ({Reason}); retrying in {DelaySecs}s")]
    public static partial void Retrying(ILogger logger, string requestId, int attempt, string reason, int delaySecs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "transfer loop command {Command} failed")]
    public static partial void LoopCommandFailed(ILogger logger, string command, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "libcurl engine started: {Version}, {Threads} transfer threads")]
    public static partial void EngineStarted(ILogger logger, string version, int threads);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "every request goes through the upstream proxy {Proxy}; target hosts are resolved and checked by the SSRF guard before they are sent")]
    public static partial void UpstreamProxyInUse(ILogger logger, string proxy);
}
