// A job as the store keeps it: docs/api.md (Jobs) plus progress, cancel_requested,
// original_job_id and schedule_id (docs/api.md E2, E3). The request keeps its secrets here; only the
// JSON writers redact (docs/api.md D9).
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Jobs;

/// <summary>The five states of docs/api.md (Jobs), as their exact wire strings.</summary>
public static class JobStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly string[] All = [Pending, Running, Completed, Failed, Cancelled];

    public static bool IsTerminal(string status) => status is Completed or Failed or Cancelled;

    public static bool IsKnown(string status) => Array.IndexOf(All, status) >= 0;
}

/// <summary>The error texts users see (SDK docs quote some of them verbatim).</summary>
public static class JobErrors
{
    public const string Cancelled = "Cancelled";
    public const string InterruptedByRestart = "interrupted by restart";
    public const string InterruptedByShutdown = "interrupted by shutdown";
}

public sealed record JobRecord
{
    public required string Id { get; init; }
    public string? Name { get; init; }
    public string? SessionId { get; init; }
    public required string Status { get; init; }
    /// <summary>The upstream verb (the request's effective method).</summary>
    public required string Method { get; init; }
    public required string Url { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public string? Error { get; init; }
    /// <summary>Attempts the engine made for the last run (1 + retries); 0 before it ran.</summary>
    public int RetryAttempts { get; init; }
    /// <summary>The request as submitted, secrets included.</summary>
    public required CurlRequest Request { get; init; }
    /// <summary>The stored response head and facts; set once the job completed.</summary>
    public StoredResponse? Response { get; init; }
    /// <summary>0–1, from bytes received over the expected length (1 once completed).</summary>
    public double Progress { get; init; }
    public bool CancelRequested { get; init; }
    public string? OriginalJobId { get; init; }
    public string? ScheduleId { get; init; }
}

/// <summary>One row of the job list (docs/api.md (Jobs) JobSummary plus progress and schedule_id).</summary>
public sealed record JobSummary(
    string Id, string? Name, string Method, string Url, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, double Progress, string? ScheduleId);

/// <summary>What a list call asks for: 1-based page, optional limit (null = everything), filters.</summary>
public sealed record JobQuery
{
    public int Page { get; init; } = 1;
    public int? Limit { get; init; }
    /// <summary>Any of these statuses (empty = all).</summary>
    public IReadOnlyList<string> Statuses { get; init; } = [];
    public string? Name { get; init; }
    public string? ScheduleId { get; init; }
}

/// <summary>A page of jobs, newest first, with the total that matched the filters.</summary>
public sealed record JobPage(IReadOnlyList<JobSummary> Items, long Total);

/// <summary>Where a submitted job comes from, beyond its request.</summary>
public sealed record JobOrigin
{
    /// <summary>The schedule that fired it (Scheduling module).</summary>
    public string? ScheduleId { get; init; }
    /// <summary>The job it re-runs (docs/api.md E2).</summary>
    public string? OriginalJobId { get; init; }

    public static readonly JobOrigin None = new();
}
