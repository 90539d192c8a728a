// The scheduling module's settings, read once from flags by SchedulingModule. To add a setting: a
// property here with its default in the XML doc, a flag in SchedulingModule.AddFlags, its validation
// in SchedulingModule.Read.
namespace HoodyCurl.Scheduling;

public sealed record SchedulingOptions
{
    /// <summary>
    /// Whether schedules exist at all. `--no-schedules` sets it to false: the scheduler does not run,
    /// the schedule table is not touched, and every /api/v1/curl/schedule route answers 404
    /// (docs/api.md D12). Default true.
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Longest accepted schedule `name`, in characters. Default 256.</summary>
    public int MaxNameLength { get; init; } = 256;

    /// <summary>--max-schedules: most schedules that may exist at once (409 TOO_MANY_SCHEDULES beyond). Default 1000.</summary>
    public int MaxSchedules { get; init; } = 1000;

    /// <summary>
    /// --min-schedule-interval-secs: shortest gap a schedule's cron may leave between two firings
    /// (400 VALIDATION_ERROR below it). Default 1 second.
    /// </summary>
    public int MinIntervalSecs { get; init; } = 1;

    /// <summary>
    /// Longest the scheduler sleeps in one go even when nothing is due sooner, so a wall-clock jump
    /// (NTP step, suspended VM) is noticed within this time. Default 60 seconds.
    /// </summary>
    public TimeSpan MaxSleep { get; init; } = TimeSpan.FromSeconds(60);
}
