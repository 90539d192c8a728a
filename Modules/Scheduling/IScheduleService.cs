// The scheduling module's public face: what the /api/v1/curl/schedule endpoints do, for any door.
namespace HoodyCurl.Scheduling;

public interface IScheduleService
{
    /// <summary>
    /// Validates and stores a schedule, and hands it to the scheduler. Throws ApiErrorException:
    /// 400 INVALID_CRON (`Invalid cron expression`), 400 VALIDATION_ERROR (time zone, name), 403
    /// SSRF_BLOCKED (the request's URL fails the pre-check).
    /// </summary>
    ScheduleRecord Create(ScheduleDraft draft);

    /// <summary>The schedule, or null when there is none with that id.</summary>
    ScheduleRecord? Get(string id);

    /// <summary>Schedules newest first; <paramref name="limit"/> null returns them all.</summary>
    SchedulePage List(int page, int? limit);

    /// <summary>
    /// Enables or disables the schedule and returns it as it is now (null when unknown). Enabling
    /// plans the next occurrence after now; disabling clears next_run. Setting the current state again
    /// changes nothing.
    /// </summary>
    ScheduleRecord? SetEnabled(string id, bool enabled);

    /// <summary>Deletes the schedule; it stops firing at once. False when unknown. Its jobs remain.</summary>
    bool Delete(string id);
}
