// The schedule API's operations: validation at creation (cron grammar, time zone, name, the SSRF
// pre-check of the request), and every change applied to the store and to the scheduler's plan
// together under the scheduler's gate.
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Scheduling;

internal sealed class ScheduleService(ScheduleStore store, Scheduler scheduler, IRequestExecutor executor, SchedulingOptions options, ILogger log)
    : IScheduleService
{
    public ScheduleRecord Create(ScheduleDraft draft)
    {
        var expression = CronGrammar.Parse(draft.Cron);
        var zoneId = draft.TimeZone ?? ScheduleTimeZones.Default;
        if (!ScheduleTimeZones.TryFind(zoneId, out var zone))
            throw new ApiErrorException(ApiError.Validation(
                $"field 'timezone' must be an IANA time-zone id such as 'Europe/Berlin' or 'UTC', got '{ErrorText.Printable(zoneId)}'"));
        zoneId = zone.Id; // the zone's own spelling of the id (lookups ignore case)
        var name = draft.Name ?? draft.Request.JobName;
        if (name is not null && name.Length > options.MaxNameLength)
            throw new ApiErrorException(ApiError.Validation($"field 'name' must be at most {options.MaxNameLength} characters"));
        var timetable = new Timetable(expression, zone);
        if (ShortestGap(timetable, scheduler.Now) is { } gap && gap < TimeSpan.FromSeconds(options.MinIntervalSecs))
            throw new ApiErrorException(ApiError.Validation(
                $"field 'cron' fires every {gap.TotalSeconds:0.###} s; the shortest allowed interval is {options.MinIntervalSecs} s (--min-schedule-interval-secs)"));
        if (executor.Precheck(draft.Request) is { } refused) throw new ApiErrorException(refused);

        ScheduleRecord schedule;
        lock (scheduler.Gate)
        {
            var now = scheduler.Now;
            // Checked under the gate, so parallel creates cannot pass the cap together.
            if (store.List(1, 1).Total >= options.MaxSchedules)
                throw new ApiErrorException(new ApiError(409, TooManySchedules,
                    $"there are already {options.MaxSchedules} schedules (--max-schedules); delete one first"));
            var next = draft.Enabled ? timetable.Next(now) : null;
            schedule = new ScheduleRecord
            {
                Id = Ids.New(),
                Name = name,
                Cron = draft.Cron,
                TimeZone = zoneId,
                Enabled = draft.Enabled,
                SkipIfRunning = draft.SkipIfRunning,
                CreatedAt = now,
                NextRun = next,
                Request = draft.Request,
            };
            store.Insert(schedule);
            if (next is { } n) scheduler.Track(schedule, timetable, n);
        }
        Log.Created(log, schedule.Id, schedule.Cron, schedule.TimeZone, schedule.Enabled, Format(schedule.NextRun));
        return schedule;
    }

    public const string TooManySchedules = "TOO_MANY_SCHEDULES";

    /// <summary>
    /// The shortest gap between consecutive firings among the next ones (a cron's gaps repeat within a
    /// day at most, but irregular seconds lists like "0,1 * * * * *" show up in the first few).
    /// </summary>
    internal static TimeSpan? ShortestGap(Timetable timetable, DateTimeOffset from)
    {
        TimeSpan? shortest = null;
        var previous = timetable.Next(from);
        for (var i = 0; i < 120 && previous is { } p; i++)
        {
            var next = timetable.Next(p);
            if (next is not { } n) break;
            var gap = n - p;
            if (shortest is null || gap < shortest) shortest = gap;
            previous = n;
        }
        return shortest;
    }

    public ScheduleRecord? Get(string id) => Ids.IsUuid(id) ? store.Get(id) : null;

    public SchedulePage List(int page, int? limit) => store.List(page, limit);

    public ScheduleRecord? SetEnabled(string id, bool enabled)
    {
        if (!Ids.IsUuid(id)) return null;
        lock (scheduler.Gate)
        {
            var schedule = store.Get(id);
            if (schedule is null) return null;
            if (schedule.Enabled == enabled) return schedule;
            DateTimeOffset? next = null;
            Timetable? timetable = null;
            if (enabled)
            {
                timetable = Timetable.TryCreate(schedule.Cron, schedule.TimeZone);
                if (timetable is null) Log.Unplannable(log, schedule.Id, schedule.Cron, schedule.TimeZone);
                next = timetable?.Next(scheduler.Now);
            }
            if (!store.SetEnabled(id, enabled, next)) return null;
            schedule = schedule with { Enabled = enabled, NextRun = next };
            if (timetable is not null && next is { } n) scheduler.Track(schedule, timetable, n);
            else scheduler.Forget(id);
            Log.Toggled(log, id, enabled ? "enabled" : "disabled", Format(next));
            return schedule;
        }
    }

    public bool Delete(string id)
    {
        if (!Ids.IsUuid(id)) return false;
        lock (scheduler.Gate)
        {
            if (!store.Delete(id)) return false;
            scheduler.Forget(id);
        }
        Log.Deleted(log, id);
        return true;
    }

    private static string Format(DateTimeOffset? value) => value is { } v ? Kernel.Time.Rfc3339.Format(v) : "null";
}
