// Source-generated log messages of the scheduling module (no secrets: ids, cron text, counts only).
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Scheduling;

internal static partial class Log
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "scheduler started: {Enabled} enabled of {Total} schedules; missed firings are not replayed")]
    public static partial void Started(ILogger logger, int enabled, int total);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "schedule {ScheduleId} created: cron='{Cron}' timezone={TimeZone} enabled={Enabled} next_run={NextRun}")]
    public static partial void Created(ILogger logger, string scheduleId, string cron, string timeZone, bool enabled, string nextRun);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "schedule {ScheduleId} {State}: next_run={NextRun}")]
    public static partial void Toggled(ILogger logger, string scheduleId, string state, string nextRun);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "schedule {ScheduleId} deleted")]
    public static partial void Deleted(ILogger logger, string scheduleId);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Debug, Message = "schedule {ScheduleId} fired: job {JobId} lag_ms={LagMs:F1}")]
    public static partial void Fired(ILogger logger, string scheduleId, string jobId, double lagMs);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Debug, Message = "schedule {ScheduleId} skipped a firing: job {JobId} of the previous firing is still {Status}")]
    public static partial void SkippedRunning(ILogger logger, string scheduleId, string jobId, string status);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "schedule {ScheduleId} skipped a firing: the job queue is full")]
    public static partial void SkippedQueueFull(ILogger logger, string scheduleId);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Error, Message = "schedule {ScheduleId}: submitting the firing's job failed")]
    public static partial void FiringFailed(ILogger logger, string scheduleId, Exception exception);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Error, Message = "schedule {ScheduleId}: stored cron '{Cron}' or time zone '{TimeZone}' no longer parses; the schedule will not fire")]
    public static partial void Unplannable(ILogger logger, string scheduleId, string cron, string timeZone);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Error, Message = "scheduler: recording {Count} firings in the store failed; their counters may be behind")]
    public static partial void RecordFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Error, Message = "scheduler loop failed unexpectedly; restarting it")]
    public static partial void LoopFailed(ILogger logger, Exception exception);
}
