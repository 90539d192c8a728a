// The jobs module's settings, read once from flags by JobsModule. To add a setting: a property here
// with its default in the XML doc, a flag in JobsModule.AddFlags, its validation in JobsModule.Read.
namespace HoodyCurl.Jobs;

public sealed record JobsOptions
{
    /// <summary>Jobs executing at once (`--max-concurrent-jobs`). Default 8.</summary>
    public int MaxConcurrentJobs { get; init; } = 8;

    /// <summary>
    /// Jobs waiting for a worker (`--max-pending-jobs`); a submit beyond it answers 503 QUEUE_FULL with
    /// Retry-After. Default 1000.
    /// </summary>
    public int MaxPendingJobs { get; init; } = 1000;

    /// <summary>
    /// Largest body shown inline as `response.body` in a job record (`--job-inline-body-bytes`); larger
    /// bodies show `[]` with `body_truncated: true` and are read through `/result` (docs/api.md D15).
    /// Default 1048576 (1 MiB).
    /// </summary>
    public long InlineBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// Days a finished job (record, events, body file) is kept (`--job-retention-days`); 0 keeps them
    /// forever, as the contract describes. Default 0.
    /// </summary>
    public int RetentionDays { get; init; }

    /// <summary>
    /// Re-queue jobs found `running` after a crash when their method is idempotent (GET, HEAD, PUT,
    /// DELETE, OPTIONS) instead of failing them with "interrupted by restart" (`--requeue-interrupted`).
    /// Default false.
    /// </summary>
    public bool RequeueInterrupted { get; init; }

    /// <summary>Seconds a client is told to wait after 503 QUEUE_FULL (Retry-After). Default 5.</summary>
    public int QueueFullRetryAfterSeconds { get; init; } = 5;

    /// <summary>Longest accepted `timeout_ms` of the long-poll (docs/api.md E1), in ms. Default 120000.</summary>
    public int MaxWaitMs { get; init; } = 120_000;
}
