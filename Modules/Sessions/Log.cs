// Source-generated log messages of the sessions module (ids and counts only; never a cookie value).
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Sessions;

internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "session {SessionId} created")]
    public static partial void SessionCreated(ILogger logger, string sessionId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "session {SessionId} jar stored: {Count} cookies")]
    public static partial void JarStored(ILogger logger, string sessionId, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "session {SessionId} deleted; tombstoned for {Seconds}s")]
    public static partial void SessionDeleted(ILogger logger, string sessionId, int seconds);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "session {SessionId}: jar over --session-max-cookies, dropped {Dropped} cookies")]
    public static partial void JarTrimmed(ILogger logger, string sessionId, int dropped);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "removed {Count} expired session tombstones")]
    public static partial void TombstonesPurged(ILogger logger, int count);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "removed {Count} sessions unused for more than {Days} days (--session-idle-days)")]
    public static partial void IdleSwept(ILogger logger, int count, int days);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "session {SessionId}: storing the jar failed; it keeps its previous cookies")]
    public static partial void JarStoreFailed(ILogger logger, string sessionId, Exception exception);
}
