// The bounded worker pool. Job ids wait in an in-memory FIFO (the store is the truth: the queue is
// rebuilt from `pending` rows at start-up); --max-concurrent-jobs loops take them one at a time.
//
// One job's run:
//   1. pending → running (compare-and-set; a job cancelled while queued is skipped here),
//   2. IRequestExecutor.SendAsync: the engine retries (retry_count/retry_delay) until it has a head,
//   3. the body streams from the engine's bounded pipe into jobs/{id}/body.tmp (never whole in memory),
//      with throttled progress events,
//   4. the transfer's outcome decides: completed → fsync + rename to `body`, then commit; failed or
//      cancelled → the temp file is removed, then commit,
//   5. waiters (long-poll) are woken, metrics recorded.
// Cancel at any moment cancels the run's token; before the head that aborts SendAsync, after it the
// registration aborts the transfer, so the run ends within milliseconds.
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests;
using HoodyCurl.Storage;
using HoodyCurl.Requests.Model;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Jobs;

internal sealed class JobWorker
{
    /// <summary>Least time between two progress events of a job (docs/api.md (Events)).</summary>
    internal static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Least progress step between two progress events of a job.</summary>
    internal const double ProgressStep = 0.01;

    private readonly JobStore _store;
    private readonly IRequestExecutor _executor;
    private readonly JobsOptions _options;
    private readonly JobFiles _files;
    private readonly IFileStore? _fileStore;
    private readonly JobMetrics _metrics;
    private readonly JobWaiters _waiters;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly ConcurrentDictionary<string, JobRun> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopTaking = new();
    private Task[] _loops = [];
    private int _pending;

    public JobWorker(JobStore store, IRequestExecutor executor, JobsOptions options, JobFiles files, JobMetrics metrics,
        JobWaiters waiters, ILogger log, TimeProvider time, IFileStore? fileStore = null)
    {
        _fileStore = fileStore;
        _store = store;
        _executor = executor;
        _options = options;
        _files = files;
        _metrics = metrics;
        _waiters = waiters;
        _log = log;
        _time = time;
    }

    /// <summary>Jobs queued and still pending.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Jobs executing now.</summary>
    public int Running => _running.Count;

    /// <summary>Takes a queue slot for a new job; false when --max-pending-jobs are already waiting.</summary>
    public bool TryReserve()
    {
        if (Interlocked.Increment(ref _pending) > _options.MaxPendingJobs)
        {
            Interlocked.Decrement(ref _pending);
            return false;
        }
        _metrics.QueueDepth.Set(Pending);
        return true;
    }

    /// <summary>Gives back a slot taken by <see cref="TryReserve"/> whose job was not stored.</summary>
    public void Unreserve() => PendingLeft();

    /// <summary>Queues a stored pending job whose slot was reserved.</summary>
    public void Enqueue(string jobId) => _queue.Writer.TryWrite(jobId);

    /// <summary>Queues a pending job found at start-up (no reservation: the queue may start over its bound).</summary>
    public void EnqueueRecovered(string jobId)
    {
        Interlocked.Increment(ref _pending);
        _metrics.QueueDepth.Set(Pending);
        _queue.Writer.TryWrite(jobId);
    }

    /// <summary>A pending job left the queue without running (it was cancelled).</summary>
    public void PendingLeft()
    {
        Interlocked.Decrement(ref _pending);
        _metrics.QueueDepth.Set(Pending);
    }

    public void Start()
    {
        _loops = [.. Enumerable.Range(0, _options.MaxConcurrentJobs).Select(_ => Task.Run(LoopAsync))];
    }

    /// <summary>Asks the run of <paramref name="jobId"/> to stop as cancelled. False when it is not running here.</summary>
    public bool CancelRunning(string jobId)
    {
        if (!_running.TryGetValue(jobId, out var run)) return false;
        run.Cancel(interrupted: false);
        return true;
    }

    /// <summary>
    /// Stops taking jobs, lets running ones finish until <paramref name="cancellationToken"/> fires (the
    /// host's shutdown timeout), then interrupts the rest. Pending jobs stay pending for the next start.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopTaking.CancelAsync().ConfigureAwait(false);
        var all = Task.WhenAll(_loops);
        try
        {
            await all.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            foreach (var run in _running.Values) run.Cancel(interrupted: true);
            await all.ConfigureAwait(false);
        }
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopTaking.Token).ConfigureAwait(false))
            {
                if (_stopTaking.IsCancellationRequested) return;
                if (!reader.TryRead(out var jobId)) continue;
                await RunAsync(jobId).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopTaking.IsCancellationRequested)
        {
            // Shutting down: jobs still queued stay pending in the store.
        }
    }

    private async Task RunAsync(string jobId)
    {
        // Registered before the pending → running switch, so a cancel that finds the job running
        // always finds its run here.
        using var run = new JobRun(jobId, _time);
        _running[jobId] = run;
        try
        {
            JobRecord? job;
            try
            {
                job = _store.TryStart(jobId);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.StoreFailed(_log, jobId, e);
                return;
            }
            if (job is null) return; // cancelled while it waited; the canceller gave its slot back
            PendingLeft();
            _metrics.Running.Inc();
            try
            {
                Log.JobStarted(_log, jobId, job.Method);
                var outcome = await ExecuteAsync(run, job).ConfigureAwait(false);
                Finish(job, outcome);
            }
            finally
            {
                _metrics.Running.Dec();
            }
        }
        finally
        {
            _running.TryRemove(jobId, out _);
        }
    }

    private async Task<RunOutcome> ExecuteAsync(JobRun run, JobRecord job)
    {
        UpstreamResponse? response = null;
        FileStream? temp = null;
        var attemptsMade = 0;
        try
        {
            var execution = new ExecutionOptions
            {
                RequestId = job.Id,
                Door = job.ScheduleId is null ? "job" : "schedule",
                IsAsync = true,
                OnProgress = run.OnProgress,
                OnAttempt = n => attemptsMade = n,
            };
            response = await _executor.SendAsync(job.Request, execution, run.Token).ConfigureAwait(false);
            using var abortOnCancel = run.Token.Register(static r => ((UpstreamResponse)r!).Abort(), response);

            temp = _files.CreateBodyTemp(job.Id);
            var expected = response.BodyDecoded ? null : response.ContentLength;
            var written = await CopyBodyAsync(run, response.Body, temp, expected).ConfigureAwait(false);
            var result = await response.Completion.ConfigureAwait(false);

            if (run.IsCancelled) return RunOutcome.Stopped(run, response.Attempts);
            if (!result.Ok)
                return RunOutcome.Failure(result.Error!.Message, response.Attempts);
            if (written.Error is { } copyError)
                return RunOutcome.Failure(copyError, response.Attempts);

            DurableFile.Commit(temp, _files.Body(job.Id));
            temp = null;
            SavedFile? saved = null;
            if (job.Request.Save == true && _fileStore is not null)
            {
                // save:true also files the body under downloads/ (hard links to the same bytes, docs/api.md D14);
                // the job record says where (response.saved), like the sync envelope does.
                try
                {
                    var stored = await _fileStore.ImportAsync(job.Id, job.Request.SavePath, job.Request.Url, _files.Body(job.Id), run.Token).ConfigureAwait(false);
                    saved = new SavedFile(stored.Id, stored.Paths, stored.Size);
                }
                catch (ApiErrorException e)
                {
                    return RunOutcome.Failure("saving the body to storage failed: " + e.Error.Message, response.Attempts);
                }
            }
            return new RunOutcome(JobStatus.Completed, null, StoredResponse.From(response, result.Info, written.Bytes) with { Saved = saved },
                response.Attempts, Interrupted: false);
        }
        catch (Exception) when (run.IsCancelled)
        {
            return RunOutcome.Stopped(run, response?.Attempts ?? 0);
        }
        catch (ApiErrorException e)
        {
            // No head at all: the engine reported each attempt it started (a pre-check refusal starts none).
            return RunOutcome.Failure(e.Message, response?.Attempts ?? Math.Max(attemptsMade, 1));
        }
        catch (IOException e)
        {
            Log.BodyWriteFailed(_log, job.Id, e);
            return RunOutcome.Failure("storage error: " + ServerPaths.Redact(e.Message), response?.Attempts ?? 1);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.RunFailed(_log, job.Id, e);
            return RunOutcome.Failure("internal error: " + ServerPaths.Redact(e.Message), response?.Attempts ?? 1);
        }
        finally
        {
            if (temp is not null)
            {
                var path = temp.Name;
                await temp.DisposeAsync().ConfigureAwait(false);
                JobFiles.DeleteQuietly(path);
            }
            if (response is not null) await response.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Streams the body pipe into the file; a pipe fault is reported, not thrown (the transfer's outcome explains it).</summary>
    private async Task<CopyResult> CopyBodyAsync(JobRun run, PipeReader body, FileStream file, long? expected)
    {
        long written = 0;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await body.ReadAsync(run.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return new CopyResult(written, "transfer failed: " + e.Message);
            }
            var buffer = read.Buffer;
            foreach (var segment in buffer)
            {
                await file.WriteAsync(segment, run.Token).ConfigureAwait(false);
                written += segment.Length;
            }
            body.AdvanceTo(buffer.End);
            ReportProgress(run, written, expected);
            if (read.IsCompleted || read.IsCanceled) return new CopyResult(written, null);
        }
    }

    private void ReportProgress(JobRun run, long written, long? expected)
    {
        if (run.NextProgress(written, expected) is not { } progress) return;
        try
        {
            _store.SetProgress(run.JobId, progress);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.StoreFailed(_log, run.JobId, e); // progress is advisory; the run goes on
        }
    }

    private void Finish(JobRecord job, RunOutcome outcome)
    {
        var ranFor = _time.GetUtcNow() - (job.StartedAt ?? _time.GetUtcNow());
        try
        {
            if (outcome.Interrupted && _options.RequeueInterrupted && JobStore.IsIdempotent(job.Method))
            {
                _store.TryRequeue(job.Id);
                Log.JobRequeued(_log, job.Id);
                return;
            }
            if (!_store.TryFinish(job.Id, outcome.Status, outcome.Error, outcome.Response, Math.Max(outcome.Attempts, 1)))
                return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The job stays `running` in the store; the next start-up marks it interrupted.
            Log.StoreFailed(_log, job.Id, e);
            return;
        }
        if (outcome.Status != JobStatus.Completed) _files.Delete(job.Id);
        _metrics.Finished(outcome.Status, ranFor);
        _waiters.Notify(job.Id);
        Log.JobFinished(_log, job.Id, outcome.Status, outcome.Response?.StatusCode ?? 0, outcome.Response?.BodyBytes ?? 0,
            ranFor.TotalMilliseconds, outcome.Error ?? "");
    }

    private readonly record struct CopyResult(long Bytes, string? Error);

    private sealed record RunOutcome(string Status, string? Error, StoredResponse? Response, int Attempts, bool Interrupted)
    {
        public static RunOutcome Failure(string error, int attempts) => new(JobStatus.Failed, error, null, attempts, false);

        public static RunOutcome Stopped(JobRun run, int attempts) => run.IsInterrupted
            ? new(JobStatus.Failed, JobErrors.InterruptedByShutdown, null, attempts, true)
            : new(JobStatus.Cancelled, JobErrors.Cancelled, null, attempts, false);
    }
}

/// <summary>One job's run: its cancellation, and the progress numbers the engine reports.</summary>
internal sealed class JobRun(string jobId, TimeProvider time) : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private long _received = -1;
    private long _total = -1;
    private double _lastProgress;
    private long _lastProgressAt;
    private int _interrupted;

    public string JobId { get; } = jobId;
    public CancellationToken Token => _cancel.Token;
    public bool IsCancelled => _cancel.IsCancellationRequested;
    public bool IsInterrupted => Volatile.Read(ref _interrupted) != 0;

    public void Cancel(bool interrupted)
    {
        if (interrupted) Volatile.Write(ref _interrupted, 1);
        try { _cancel.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>Engine callback, on a transfer thread: only stores the numbers.</summary>
    public void OnProgress(long received, long? total)
    {
        Volatile.Write(ref _received, received);
        Volatile.Write(ref _total, total ?? -1);
    }

    /// <summary>
    /// The progress to report now, or null: at most one event per 250 ms and per 1 % step, plus the
    /// final 100 %. Uses libcurl's byte counts when it reports them, else bytes written over
    /// Content-Length.
    /// </summary>
    public double? NextProgress(long written, long? expected)
    {
        var total = Volatile.Read(ref _total);
        var received = Volatile.Read(ref _received);
        if (total <= 0) { total = expected ?? -1; received = written; }
        if (total <= 0) return null;
        var progress = Math.Clamp((double)Math.Max(received, 0) / total, 0, 1);
        var now = time.GetTimestamp();
        var finalStep = progress >= 1 && _lastProgress < 1;
        if (!finalStep)
        {
            if (progress - _lastProgress < JobWorker.ProgressStep) return null;
            if (_lastProgressAt != 0 && time.GetElapsedTime(_lastProgressAt, now) < JobWorker.ProgressInterval) return null;
        }
        _lastProgress = progress;
        _lastProgressAt = now;
        return progress;
    }

    public void Dispose() => _cancel.Dispose();
}
