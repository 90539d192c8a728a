// Source-generated log messages of the links module. A link is named by its id only: the token (and
// so the /l/ path) never reaches a log line, nor does anything the stored request carries.
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Links;

internal static partial class Log
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "link {LinkId} created: methods={Methods} mode={Mode} max_uses={MaxUses} expires_at={ExpiresAt} params={ParamCount}")]
    public static partial void Created(ILogger logger, string linkId, string methods, string mode, string maxUses, string expiresAt, int paramCount);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "link {LinkId} revoked")]
    public static partial void Revoked(ILogger logger, string linkId);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "link {LinkId} opened: method={Method} outcome={Outcome} status={Status} job={JobId} bytes={Bytes} duration_ms={DurationMs}")]
    public static partial void Opened(ILogger logger, string linkId, string method, string outcome, int status, string jobId, long bytes, long durationMs);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "link {LinkId} opening refused: method={Method} outcome={Outcome}")]
    public static partial void Refused(ILogger logger, string linkId, string method, string outcome);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Debug, Message = "link opening refused: no such link (method={Method})")]
    public static partial void Unknown(ILogger logger, string method);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Error, Message = "link {LinkId}: opening failed unexpectedly")]
    public static partial void OpenFailed(ILogger logger, string linkId, Exception exception);
}
