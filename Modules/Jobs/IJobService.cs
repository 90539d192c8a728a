// The jobs module's public face for other modules (Scheduling submits through it; Requests reaches
// SubmitAsync through IAsyncJobSubmitter). Endpoints use the same operations.
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Jobs;

public interface IJobService
{
    /// <summary>
    /// Stores <paramref name="request"/> as a pending job and queues it. Throws ApiErrorException 503
    /// QUEUE_FULL (with Retry-After) when --max-pending-jobs jobs are already waiting.
    /// </summary>
    Task<JobRecord> SubmitAsync(CurlRequest request, JobOrigin origin, CancellationToken cancellationToken);

    /// <summary>
    /// Stores several requests as pending jobs in one durable commit and queues them (the scheduler's
    /// firings of one instant). Each item gets its job or its error (503 QUEUE_FULL); a storage failure
    /// throws ApiErrorException 500 and stores none of them.
    /// </summary>
    Task<IReadOnlyList<SubmitResult>> SubmitManyAsync(IReadOnlyList<JobSubmission> submissions, CancellationToken cancellationToken);

    /// <summary>The job, or null when there is no such job.</summary>
    JobRecord? Get(string jobId);

    /// <summary>Jobs newest first, filtered and paged.</summary>
    JobPage List(JobQuery query);

    /// <summary>
    /// Waits until the job is terminal or <paramref name="timeout"/> passes, then returns it as it is
    /// (null when there is no such job). Wakes as soon as the worker commits the terminal state.
    /// </summary>
    Task<JobRecord?> WaitAsync(string jobId, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Requests cancellation: a pending job is cancelled at once and never runs; a running transfer is
    /// aborted and the job ends `cancelled` moments later; a finished job is left as it is.
    /// </summary>
    CancelResult Cancel(string jobId);

    /// <summary>Submits a new job from the stored request of <paramref name="jobId"/> (docs/api.md E2); null when unknown.</summary>
    Task<JobRecord?> RerunAsync(string jobId, CancellationToken cancellationToken);
}

/// <summary>One request to submit as a job, and where it comes from.</summary>
public sealed record JobSubmission(CurlRequest Request, JobOrigin Origin);

/// <summary>The stored job, or why it was not stored.</summary>
public sealed record SubmitResult(JobRecord? Job, Kernel.Errors.ApiError? Error);

public enum CancelResult
{
    NotFound,
    /// <summary>The job was pending or running; it ends `cancelled`.</summary>
    Requested,
    /// <summary>The job had already finished; nothing changed (docs/api.md D10).</summary>
    AlreadyFinished,
}
