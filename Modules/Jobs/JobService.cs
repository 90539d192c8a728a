// The jobs API's operations over the store, the worker pool and the event log.
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests;
using HoodyCurl.Requests.Model;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Jobs;

internal sealed class JobService : IJobService, IAsyncJobSubmitter
{
    private readonly JobStore _store;
    private readonly JobWorker _worker;
    private readonly JobWaiters _waiters;
    private readonly JobMetrics _metrics;
    private readonly JobFiles _files;
    private readonly ILogger _log;

    public JobService(JobStore store, JobWorker worker, JobWaiters waiters, JobMetrics metrics, JobFiles files,
        JobsOptions options, JobEvents events, ILogger log)
    {
        _store = store;
        _worker = worker;
        _waiters = waiters;
        _metrics = metrics;
        _files = files;
        _log = log;
        Options = options;
        Events = events;
    }

    public JobsOptions Options { get; }

    public JobEvents Events { get; }

    public JobFiles Files => _files;

    async Task<string> IAsyncJobSubmitter.SubmitAsync(CurlRequest request, CancellationToken cancellationToken) =>
        (await SubmitAsync(request, JobOrigin.None, cancellationToken).ConfigureAwait(false)).Id;

    public async Task<JobRecord> SubmitAsync(CurlRequest request, JobOrigin origin, CancellationToken cancellationToken)
    {
        var result = (await SubmitManyAsync([new JobSubmission(request, origin)], cancellationToken).ConfigureAwait(false))[0];
        return result.Job ?? throw new ApiErrorException(result.Error!);
    }

    public Task<IReadOnlyList<SubmitResult>> SubmitManyAsync(IReadOnlyList<JobSubmission> submissions, CancellationToken cancellationToken)
    {
        var results = new SubmitResult[submissions.Count];
        var jobs = new List<JobRecord>(submissions.Count);
        var now = _store.Now;
        for (var i = 0; i < submissions.Count; i++)
        {
            if (!_worker.TryReserve())
            {
                Log.QueueFull(_log, Options.MaxPendingJobs);
                results[i] = new SubmitResult(null, new ApiError(503, ErrorCodes.QueueFull,
                    $"Job queue is full ({Options.MaxPendingJobs} jobs pending); retry later") { RetryAfterSeconds = Options.QueueFullRetryAfterSeconds });
                continue;
            }
            var (request, origin) = submissions[i];
            var job = new JobRecord
            {
                Id = Ids.New(),
                Name = request.JobName,
                SessionId = request.SessionId,
                Status = JobStatus.Pending,
                Method = request.EffectiveMethod,
                Url = request.Url,
                CreatedAt = now,
                Request = request,
                OriginalJobId = origin.OriginalJobId,
                ScheduleId = origin.ScheduleId,
            };
            jobs.Add(job);
            results[i] = new SubmitResult(job, null);
        }
        try
        {
            _store.InsertMany(jobs);
        }
        catch (Exception e) when (e is not ApiErrorException)
        {
            foreach (var _ in jobs) _worker.Unreserve();
            Log.StoreFailed(_log, "(new)", e);
            throw new ApiErrorException(new ApiError(500, ErrorCodes.StorageError, "Failed to store the job"));
        }
        foreach (var job in jobs)
        {
            _worker.Enqueue(job.Id);
            Log.JobQueued(_log, job.Id, job.Method, job.ScheduleId ?? "", job.OriginalJobId ?? "");
        }
        return Task.FromResult<IReadOnlyList<SubmitResult>>(results);
    }

    public JobRecord? Get(string jobId) => Ids.IsUuid(jobId) ? _store.Get(jobId) : null;

    public JobPage List(JobQuery query) => _store.List(query);

    /// <summary>The total and the matching summaries, read in batches as they are enumerated.</summary>
    public (long Total, IEnumerable<JobSummary> Items) ListLazily(JobQuery query) => _store.ListLazily(query);

    public async Task<JobRecord?> WaitAsync(string jobId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!Ids.IsUuid(jobId)) return null;
        if (timeout <= TimeSpan.Zero) return _store.Get(jobId);
        var signal = _waiters.Signal(jobId); // before the read: a transition in between still wakes us
        var job = _store.Get(jobId);
        if (job is null || JobStatus.IsTerminal(job.Status))
        {
            _waiters.Notify(jobId); // drop the signal nobody would fire (unknown ids must not pile up)
            return job;
        }
        try
        {
            await signal.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Timed out: answer with the job as it is now.
        }
        return _store.Get(jobId);
    }

    public CancelResult Cancel(string jobId)
    {
        var job = Get(jobId);
        if (job is null) return CancelResult.NotFound;
        if (JobStatus.IsTerminal(job.Status)) return CancelResult.AlreadyFinished;
        if (_store.TryCancelPending(jobId))
        {
            _worker.PendingLeft();
            _metrics.Finished(JobStatus.Cancelled, null);
            _waiters.Notify(jobId);
            Log.JobCancelled(_log, jobId, JobStatus.Pending);
            return CancelResult.Requested;
        }
        // Not pending any more: it is running (or finished in the meantime, which the store tells).
        if (_store.MarkCancelRequested(jobId))
        {
            _worker.CancelRunning(jobId);
            Log.JobCancelled(_log, jobId, JobStatus.Running);
            return CancelResult.Requested;
        }
        return CancelResult.AlreadyFinished;
    }

    public async Task<JobRecord?> RerunAsync(string jobId, CancellationToken cancellationToken)
    {
        var original = Get(jobId);
        if (original is null) return null;
        return await SubmitAsync(original.Request, new JobOrigin { OriginalJobId = original.Id }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The body bytes to show inline in the job record (docs/api.md D15): the whole body up to
    /// --job-inline-body-bytes, else null (the record says body_truncated).
    /// </summary>
    public byte[]? InlineBody(JobRecord job)
    {
        if (job.Response is not { } response || response.BodyBytes > Options.InlineBodyBytes) return null;
        if (response.BodyBytes == 0) return [];
        try
        {
            using var body = _files.OpenBody(job.Id);
            var bytes = new byte[body.Length];
            body.ReadExactly(bytes);
            return bytes;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
