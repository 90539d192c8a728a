// An IJobService that records what the scheduler submits and answers Get with a status the test
// chooses, so the scheduler's decisions (submit, skip while running, queue full) can be observed.
using System.Collections.Concurrent;
using HoodyCurl.Jobs;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Scheduling.Tests.Support;

internal sealed class FakeJobs(TimeProvider? clock = null) : IJobService
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private readonly ConcurrentQueue<Submission> _submitted = new();
    private readonly ConcurrentDictionary<string, JobRecord> _jobs = new();

    /// <summary>The status Get reports for every submitted job. Default completed.</summary>
    public string Status { get; set; } = JobStatus.Completed;

    /// <summary>When true, SubmitAsync refuses with 503 QUEUE_FULL like a full job queue.</summary>
    public bool QueueFull { get; set; }

    /// <summary>When true, SubmitAsync throws a store failure.</summary>
    public bool Broken { get; set; }

    public int Attempts => Volatile.Read(ref _attempts);
    private int _attempts;

    public IReadOnlyList<Submission> Submitted => [.. _submitted];

    public IReadOnlyList<Submission> For(string scheduleId) => [.. _submitted.Where(s => s.Origin.ScheduleId == scheduleId)];

    public Task<JobRecord> SubmitAsync(CurlRequest request, JobOrigin origin, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        if (QueueFull) throw new ApiErrorException(new ApiError(503, ErrorCodes.QueueFull, "Job queue is full") { RetryAfterSeconds = 5 });
        if (Broken) throw new InvalidOperationException("store down");
        var job = new JobRecord
        {
            Id = Kernel.Ids.New(),
            Name = request.JobName,
            Status = JobStatus.Pending,
            Method = request.EffectiveMethod,
            Url = request.Url,
            CreatedAt = _clock.GetUtcNow(),
            Request = request,
            ScheduleId = origin.ScheduleId,
        };
        _jobs[job.Id] = job;
        _submitted.Enqueue(new Submission(job.Id, request, origin, _clock.GetUtcNow()));
        return Task.FromResult(job);
    }

    public async Task<IReadOnlyList<SubmitResult>> SubmitManyAsync(IReadOnlyList<JobSubmission> submissions, CancellationToken cancellationToken)
    {
        if (Broken) { Interlocked.Add(ref _attempts, submissions.Count); throw new InvalidOperationException("store down"); }
        var results = new List<SubmitResult>(submissions.Count);
        foreach (var (request, origin) in submissions)
        {
            try { results.Add(new SubmitResult(await SubmitAsync(request, origin, cancellationToken), null)); }
            catch (ApiErrorException e) { results.Add(new SubmitResult(null, e.Error)); }
        }
        return results;
    }

    public JobRecord? Get(string jobId) => _jobs.TryGetValue(jobId, out var job) ? job with { Status = Status } : null;

    public JobPage List(JobQuery query) => throw new NotSupportedException();

    public Task<JobRecord?> WaitAsync(string jobId, TimeSpan timeout, CancellationToken cancellationToken) => throw new NotSupportedException();

    public CancelResult Cancel(string jobId) => throw new NotSupportedException();

    public Task<JobRecord?> RerunAsync(string jobId, CancellationToken cancellationToken) => throw new NotSupportedException();
}

internal sealed record Submission(string JobId, CurlRequest Request, JobOrigin Origin, DateTimeOffset At);
