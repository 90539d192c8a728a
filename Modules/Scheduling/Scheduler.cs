// The scheduler: one thread that sleeps until the next due firing and submits a job for it.
//
//   create/toggle/delete ──► ScheduleService ──(Gate)──► store + plan ──► Wake()
//                                                                           │
//   ┌──────────────── scheduler thread ◄───────────────────────────────────┘
//   │ 1. under Gate: take every slot that is due now from the priority queue (stale ones dropped)
//   │ 2. no lock:    for each due slot, in planned order: skip it (previous job still running and
//   │                skip_if_running) or submit its job through IJobService; observe the lag
//   │ 3. under Gate: plan each schedule's next occurrence after max(planned, now), so firings missed
//   │                while busy or down are never replayed (docs/api.md D12), and record the whole tick
//   │                in the store in one transaction
//   └ 4. sleep until the earliest slot, or until Wake(), at most SchedulingOptions.MaxSleep
//
// Nothing polls the database: next-due times live in memory, in a priority queue ordered by due
// time. A change to a schedule bumps its generation, which makes slots already queued for it stale;
// they are dropped when they surface (and the queue is rebuilt if stale slots pile up).
//
// A dedicated thread rather than a timer on the thread pool: wake-ups come straight from the kernel's
// timed wait, so a busy pool (workers writing job bodies, Kestrel) does not add to the firing lag.
// All firings due at one instant go to IJobService.SubmitManyAsync as one batch: one durable SQLite
// commit for all of them (a commit per firing made the k-th firing of a busy second wait for k - 1
// commits; bench/scheduler/RESULTS.md). It completes synchronously, so blocking on it here is cheapest.
using HoodyCurl.Jobs;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Scheduling;

internal sealed class Scheduler : IHostedService, IDisposable
{
    private readonly ScheduleStore _store;
    private readonly IJobService _jobs;
    private readonly ScheduleMetrics _metrics;
    private readonly SchedulingOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly PriorityQueue<Slot, (DateTimeOffset Due, long Order)> _queue = new();
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);
    private long _order;
    private volatile bool _stopping;
    private Thread? _thread;

    public Scheduler(ScheduleStore store, IJobService jobs, ScheduleMetrics metrics, SchedulingOptions options, ILogger log, TimeProvider time)
    {
        _store = store;
        _jobs = jobs;
        _metrics = metrics;
        _options = options;
        _log = log;
        _time = time;
    }

    /// <summary>
    /// Held while a schedule's stored state and its plan change together (ScheduleService, and the
    /// scheduler's own bookkeeping), so the store and the plan never disagree.
    /// </summary>
    public Lock Gate => _gate;

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Plans <paramref name="schedule"/> to fire at <paramref name="next"/> and on. Hold <see cref="Gate"/>.</summary>
    public void Track(ScheduleRecord schedule, Timetable timetable, DateTimeOffset next)
    {
        if (!_entries.TryGetValue(schedule.Id, out var entry))
        {
            entry = new Entry(schedule.Id, timetable, schedule.Request, schedule.SkipIfRunning);
            _entries.Add(schedule.Id, entry);
        }
        entry.Generation++;
        entry.LastJobId = schedule.LastJobId;
        Push(entry, next);
        if (_queue.Count > 1024 + 2 * _entries.Count) Rebuild();
        _metrics.Enabled.Set(_entries.Count);
        _wake.Set();
    }

    /// <summary>Stops planning the schedule (disabled or deleted); queued slots for it go stale. Hold <see cref="Gate"/>.</summary>
    public void Forget(string scheduleId)
    {
        if (_entries.Remove(scheduleId)) _metrics.Enabled.Set(_entries.Count);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Plan();
        _thread = new Thread(Run) { IsBackground = true, Name = "hoody-scheduler" };
        _thread.Start();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Plans every enabled schedule from the store at the first occurrence after now. StartAsync does this and
    /// then starts the thread; tests on a fake clock call it alone and drive <see cref="RunDue"/> themselves.
    /// </summary>
    internal void Plan()
    {
        var all = _store.All();
        lock (_gate)
        {
            // Decisions D12: what was missed while down is not replayed; each enabled schedule resumes
            // at its first occurrence after now, and next_run says so.
            var now = Now;
            var plans = new List<(string, DateTimeOffset?)>();
            foreach (var schedule in all)
            {
                DateTimeOffset? next = null;
                if (schedule.Enabled)
                {
                    if (Timetable.TryCreate(schedule.Cron, schedule.TimeZone) is { } timetable)
                    {
                        next = timetable.Next(now);
                        if (next is { } n) Track(schedule, timetable, n);
                    }
                    else
                    {
                        Log.Unplannable(_log, schedule.Id, schedule.Cron, schedule.TimeZone);
                    }
                }
                if (next != schedule.NextRun) plans.Add((schedule.Id, next));
            }
            _store.SetNextRuns(plans);
            _metrics.Enabled.Set(_entries.Count);
            Log.Started(_log, _entries.Count, all.Count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _wake.Set();
        // A tick in progress finishes its current submit (milliseconds) and records what it did.
        _thread?.Join(TimeSpan.FromSeconds(10));
        return Task.CompletedTask;
    }

    public void Dispose() => _wake.Dispose();

    private void Run()
    {
        while (!_stopping)
        {
            try
            {
                Tick();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.LoopFailed(_log, e);
                if (!_stopping) _wake.Wait(TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>One turn: fire what is due, or sleep until something is (or a change wakes us).</summary>
    internal void Tick()
    {
        if (!RunDue(out var sleep)) _wake.Wait(sleep);
    }

    /// <summary>
    /// Fires every slot due at the clock's now (true), or tells how long until the next one (false). The only
    /// place time is read for firing decisions, so a fake <see cref="TimeProvider"/> drives it completely.
    /// </summary>
    internal bool RunDue(out TimeSpan sleep)
    {
        List<Firing> due;
        lock (_gate)
        {
            _wake.Reset(); // a change after this point sets it again, so the caller's wait returns at once
            var now = Now;
            due = TakeDue(now);
            sleep = due.Count > 0 ? TimeSpan.Zero : SleepFrom(now);
        }
        if (due.Count == 0) return false;
        Fire(due);
        return true;
    }

    private List<Firing> TakeDue(DateTimeOffset now)
    {
        var due = new List<Firing>();
        while (_queue.TryPeek(out var slot, out _) && slot.Due <= now)
        {
            _queue.Dequeue();
            if (IsCurrent(slot.Entry, slot.Generation))
                due.Add(new Firing(slot.Entry, slot.Generation, slot.Due, slot.Entry.LastJobId));
        }
        return due;
    }

    private TimeSpan SleepFrom(DateTimeOffset now)
    {
        if (!_queue.TryPeek(out var slot, out _)) return _options.MaxSleep;
        var ticks = (slot.Due - now).Ticks;
        // Round up to the next millisecond: the timed wait has millisecond resolution and waking a
        // hair early only costs another short sleep.
        var ms = Math.Max(1, (ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);
        return TimeSpan.FromMilliseconds(Math.Min(ms, (long)_options.MaxSleep.TotalMilliseconds));
    }

    private void Fire(List<Firing> due)
    {
        // Every firing of this instant is submitted in one batch: one durable commit for all of them,
        // so the last schedule of a busy second does not wait for the commits of all the others.
        var jobIds = new string?[due.Count];
        var batch = new List<(int Index, JobSubmission Submission)>(due.Count);
        for (var i = 0; i < due.Count && !_stopping; i++)
        {
            if (!SkipsWhileRunning(due[i])) batch.Add((i, new JobSubmission(due[i].Entry.Request, new JobOrigin { ScheduleId = due[i].Entry.Id })));
        }
        IReadOnlyList<SubmitResult>? results = null;
        try
        {
            if (batch.Count > 0) results = _jobs.SubmitManyAsync([.. batch.Select(b => b.Submission)], CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            foreach (var (index, _) in batch)
            {
                _metrics.Fired(ScheduleMetrics.Failed);
                Log.FiringFailed(_log, due[index].Entry.Id, e);
            }
        }
        var firedAt = Now; // the jobs are durably queued: the firing is done
        if (results is not null)
        {
            for (var b = 0; b < batch.Count; b++)
            {
                var firing = due[batch[b].Index];
                var lag = Math.Max(0, (firedAt - firing.Due).TotalSeconds);
                _metrics.Lag.Observe(lag);
                if (results[b].Job is { } job)
                {
                    jobIds[batch[b].Index] = job.Id;
                    _metrics.Fired(ScheduleMetrics.Submitted);
                    Log.Fired(_log, firing.Entry.Id, job.Id, lag * 1000);
                }
                else
                {
                    _metrics.Fired(ScheduleMetrics.SkippedQueueFull);
                    Log.SkippedQueueFull(_log, firing.Entry.Id);
                }
            }
        }

        // Plan the next occurrences and record the tick, atomically with respect to API changes.
        var records = new List<FiringRecord>(due.Count);
        lock (_gate)
        {
            var now = Now;
            for (var i = 0; i < due.Count; i++)
            {
                var firing = due[i];
                var entry = firing.Entry;
                var jobId = jobIds[i];
                var current = IsCurrent(entry, firing.Generation);
                DateTimeOffset? next = null;
                if (current)
                {
                    if (jobId is not null) entry.LastJobId = jobId;
                    next = entry.Timetable.Next(firing.Due > now ? firing.Due : now);
                    if (next is { } n) Push(entry, n);
                    else Forget(entry.Id);
                }
                records.Add(new FiringRecord(entry.Id, firedAt, jobId, current, next));
            }
            try
            {
                _store.RecordFirings(records);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The plan already moved on, so a failing store never makes the scheduler storm.
                Log.RecordFailed(_log, records.Count, e);
            }
        }
    }

    /// <summary>True (and counted) when the schedule skips this firing because its last job is unfinished.</summary>
    private bool SkipsWhileRunning(Firing firing)
    {
        var entry = firing.Entry;
        if (!entry.SkipIfRunning || firing.LastJobId is not { } previous || _jobs.Get(previous) is not { } last || JobStatus.IsTerminal(last.Status))
            return false;
        _metrics.Fired(ScheduleMetrics.SkippedRunning);
        Log.SkippedRunning(_log, entry.Id, previous, last.Status);
        return true;
    }

    private bool IsCurrent(Entry entry, long generation) =>
        _entries.TryGetValue(entry.Id, out var live) && ReferenceEquals(live, entry) && live.Generation == generation;

    private void Push(Entry entry, DateTimeOffset due)
    {
        entry.NextRun = due;
        _queue.Enqueue(new Slot(entry, entry.Generation, due), (due, _order++));
    }

    /// <summary>Drops stale slots (many toggles of rarely firing schedules) by re-queueing the live plan.</summary>
    private void Rebuild()
    {
        _queue.Clear();
        foreach (var entry in _entries.Values)
        {
            if (entry.NextRun is { } due) _queue.Enqueue(new Slot(entry, entry.Generation, due), (due, _order++));
        }
    }

    /// <summary>A planned schedule. Mutable fields change only under the gate.</summary>
    private sealed class Entry(string id, Timetable timetable, CurlRequest request, bool skipIfRunning)
    {
        public string Id { get; } = id;
        public Timetable Timetable { get; } = timetable;
        public CurlRequest Request { get; } = request;
        public bool SkipIfRunning { get; } = skipIfRunning;
        public long Generation { get; set; }
        public string? LastJobId { get; set; }
        public DateTimeOffset? NextRun { get; set; }
    }

    private readonly record struct Slot(Entry Entry, long Generation, DateTimeOffset Due);

    private readonly record struct Firing(Entry Entry, long Generation, DateTimeOffset Due, string? LastJobId);
}
