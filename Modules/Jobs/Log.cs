// Source-generated log messages of the jobs module (no secrets: ids, methods, statuses, sizes only).
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Jobs;

internal static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "job {JobId} queued: {Method} schedule={ScheduleId} rerun_of={OriginalJobId}")]
    public static partial void JobQueued(ILogger logger, string jobId, string method, string scheduleId, string originalJobId);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Debug, Message = "job {JobId} started: {Method}")]
    public static partial void JobStarted(ILogger logger, string jobId, string method);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "job {JobId} {Status}: upstream={UpstreamStatus} bytes={Bytes} duration_ms={DurationMs:F0} error={Error}")]
    public static partial void JobFinished(ILogger logger, string jobId, string status, int upstreamStatus, long bytes, double durationMs, string error);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "job {JobId} cancel requested while {Status}")]
    public static partial void JobCancelled(ILogger logger, string jobId, string status);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "job {JobId} interrupted by shutdown and re-queued")]
    public static partial void JobRequeued(ILogger logger, string jobId);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "job queue full ({MaxPending} pending): submit refused with 503")]
    public static partial void QueueFull(ILogger logger, int maxPending);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Information, Message = "job recovery: {Failed} interrupted jobs failed, {Requeued} re-queued, {Cancelled} cancelled, {Pending} pending queued, {Swept} stray files removed")]
    public static partial void Recovered(ILogger logger, int failed, int requeued, int cancelled, int pending, int swept);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Information, Message = "job retention: {Count} jobs older than {Days} days deleted")]
    public static partial void RetentionDeleted(ILogger logger, int count, int days);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Error, Message = "job {JobId}: job store failed")]
    public static partial void StoreFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Error, Message = "job {JobId}: writing the body file failed")]
    public static partial void BodyWriteFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Error, Message = "job {JobId}: run failed unexpectedly")]
    public static partial void RunFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Error, Message = "job retention sweep failed")]
    public static partial void RetentionFailed(ILogger logger, Exception exception);
}
