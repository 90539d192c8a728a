// A schedule as the store keeps it (docs/api.md (Schedules) plus timezone, skip_if_running,
// last_job_id, run_count and skipped_count). The request keeps its secrets here; only the JSON
// writer redacts (docs/api.md D9).
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Scheduling;

public sealed record ScheduleRecord
{
    public required string Id { get; init; }
    /// <summary>The create body's `name`, else the request's `job_name`, else null.</summary>
    public string? Name { get; init; }
    /// <summary>The expression exactly as the caller wrote it.</summary>
    public required string Cron { get; init; }
    /// <summary>IANA time-zone id the expression is read in; "UTC" unless the caller gave one.</summary>
    public required string TimeZone { get; init; }
    public required bool Enabled { get; init; }
    /// <summary>Skip a firing while the job of the previous firing is still pending or running.</summary>
    public bool SkipIfRunning { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>The next planned firing; null while disabled.</summary>
    public DateTimeOffset? NextRun { get; init; }
    /// <summary>When the last firing that submitted a job happened; null before the first.</summary>
    public DateTimeOffset? LastRun { get; init; }
    /// <summary>The job the last submitting firing created.</summary>
    public string? LastJobId { get; init; }
    /// <summary>Firings that submitted a job.</summary>
    public long RunCount { get; init; }
    /// <summary>Firings that submitted nothing (previous job still running, job queue full, store failure).</summary>
    public long SkippedCount { get; init; }
    /// <summary>The request every firing submits, secrets included.</summary>
    public required CurlRequest Request { get; init; }
}

/// <summary>What a caller asks to create; validated by <see cref="IScheduleService.Create"/>.</summary>
public sealed record ScheduleDraft
{
    public required string Cron { get; init; }
    public required CurlRequest Request { get; init; }
    public string? Name { get; init; }
    /// <summary>Default true: new schedules start enabled (docs/api.md (Schedules)).</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>IANA id; null means UTC.</summary>
    public string? TimeZone { get; init; }
    /// <summary>Default false: a firing submits a job even while the previous one still runs.</summary>
    public bool SkipIfRunning { get; init; }
}

/// <summary>A page of schedules, newest first, with the total count.</summary>
public sealed record SchedulePage(IReadOnlyList<ScheduleRecord> Items, long Total);
