// The host's own log lines (category HoodyCurl.Host), governed by --log-level like every other.
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Host;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "hoody-curl {Version} listening on http://{Listen} storage={StorageDir} ssrf={Ssrf} limits: {Limits}")]
    public static partial void Started(ILogger logger, string version, string listen, string storageDir, string ssrf, string limits);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "stopping on {Signal}: draining {Requests} requests and {Jobs} running jobs for up to {TimeoutSecs}s; a second signal reports progress, a third exits at once")]
    public static partial void Stopping(ILogger logger, string signal, long requests, long jobs, int timeoutSecs);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "still draining: {Requests} requests and {Jobs} running jobs; send the signal once more to exit at once")]
    public static partial void StillDraining(ILogger logger, long requests, long jobs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "forced exit: abandoning {Requests} requests and {Jobs} running jobs")]
    public static partial void ForcedExit(ILogger logger, long requests, long jobs);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);
}
