// The scheduler's decisions over a real store on a fake clock (FakeTimeProvider): the clock is moved and
// every firing that became due runs synchronously, so each assertion is exact — fires once per due second,
// never early, stops and resumes with toggles, stops on delete, skips while the previous job runs (when asked),
// goes on when the queue is full or the job service fails, and never replays what was missed while down.
// The firing lag on the real clock is a measurement (bench/scheduler/RESULTS.md), not a unit-test threshold.
using HoodyCurl.Jobs;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using HoodyCurl.Scheduling.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HoodyCurl.Scheduling.Tests;

public class SchedulerTests
{
    /// <summary>A clock 300 ms past a whole second, so due instants and "now" never coincide by accident.</summary>
    private static FakeTimeProvider NewClock() => new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, 300, TimeSpan.Zero));

    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    [Test]
    public async Task Every_second_fires_exactly_once_per_due_second_and_records_each_firing()
    {
        var clock = NewClock();
        await using var f = await new SchedulingFixture(clock: clock).StartAsync();
        var s = f.Create("*/1 * * * * *");
        await Assert.That(s.NextRun).IsEqualTo(new DateTimeOffset(2026, 3, 1, 12, 0, 1, TimeSpan.Zero));

        f.Advance(TimeSpan.FromMilliseconds(500)); // 12:00:00.800: nothing is due yet
        await Assert.That(f.Jobs.For(s.Id).Count).IsEqualTo(0);
        for (var second = 1; second <= 5; second++)
        {
            f.Advance(OneSecond); // 12:00:0{second}.800
            var fired = f.Jobs.For(s.Id);
            await Assert.That(fired.Count).IsEqualTo(second);
            var last = fired[^1];
            await Assert.That(last.At).IsEqualTo(clock.GetUtcNow());
            await Assert.That(last.At.ToUnixTimeSeconds()).IsEqualTo(new DateTimeOffset(2026, 3, 1, 12, 0, second, TimeSpan.Zero).ToUnixTimeSeconds());
            await Assert.That(last.Origin.ScheduleId).IsEqualTo(s.Id);
            await Assert.That(last.Request.JobName).IsEqualTo("probe");
            await Assert.That(last.Request.BearerToken).IsEqualTo("s3cret"); // the job gets the secret
        }
        var stored = f.Store.Get(s.Id)!;
        await Assert.That(stored.RunCount).IsEqualTo(5);
        await Assert.That(stored.LastJobId).IsEqualTo(f.Jobs.For(s.Id)[^1].JobId);
        await Assert.That(stored.NextRun).IsEqualTo(new DateTimeOffset(2026, 3, 1, 12, 0, 6, TimeSpan.Zero));
        var metrics = f.Metrics.Render();
        await Assert.That(metrics).Contains("hoody_curl_schedules_enabled 1\n");
        await Assert.That(metrics).Contains("hoody_curl_schedule_firings_total{result=\"submitted\"} 5\n");
        await Assert.That(metrics).Contains("hoody_curl_schedule_lag_seconds_count 5\n");
        await Assert.That(metrics).Contains("hoody_curl_schedule_lag_seconds_sum 4\n"); // 0.8 s late each, exactly
    }

    [Test]
    public async Task A_clock_jump_fires_once_and_does_not_replay_the_skipped_seconds()
    {
        await using var f = await new SchedulingFixture(clock: NewClock()).StartAsync();
        var s = f.Create("*/1 * * * * *");
        f.Advance(TimeSpan.FromSeconds(30)); // a stall of 30 s: one firing, then on to the next whole second
        await Assert.That(f.Jobs.For(s.Id).Count).IsEqualTo(1);
        f.Advance(OneSecond);
        await Assert.That(f.Jobs.For(s.Id).Count).IsEqualTo(2);
    }

    [Test]
    public async Task Toggle_off_stops_toggle_on_resumes_and_delete_stops_for_good()
    {
        await using var f = await new SchedulingFixture(clock: NewClock()).StartAsync();
        var s = f.Create("*/1 * * * * *");
        f.Advance(OneSecond);
        await Assert.That(f.Jobs.For(s.Id).Count).IsEqualTo(1);

        var off = f.Service.SetEnabled(s.Id, false)!;
        await Assert.That(off.Enabled).IsFalse();
        await Assert.That(off.NextRun).IsNull();
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_schedules_enabled 0");
        for (var i = 0; i < 3; i++) f.Advance(OneSecond);
        await Assert.That(f.Jobs.For(s.Id).Count).IsEqualTo(1);
        await Assert.That(f.Store.Get(s.Id)!.NextRun).IsNull();

        await Assert.That(f.Service.SetEnabled(s.Id, false)!.Enabled).IsFalse(); // same state again: no change
        var on = f.Service.SetEnabled(s.Id, true)!;
        await Assert.That(on.NextRun).IsNotNull();
        f.Advance(OneSecond);
        f.Advance(OneSecond);
        await Assert.That(f.Jobs.For(s.Id).Count).IsEqualTo(3);

        await Assert.That(f.Service.Delete(s.Id)).IsTrue();
        for (var i = 0; i < 3; i++) f.Advance(OneSecond);
        await Assert.That(f.Jobs.For(s.Id).Count).IsEqualTo(3);
        await Assert.That(f.Service.Get(s.Id)).IsNull();
        await Assert.That(f.Service.Delete(s.Id)).IsFalse();
        await Assert.That(f.Service.SetEnabled(s.Id, true)).IsNull();
    }

    [Test]
    public async Task A_disabled_schedule_never_fires_and_has_no_next_run()
    {
        await using var f = await new SchedulingFixture(clock: NewClock()).StartAsync();
        var s = f.Create("*/1 * * * * *", enabled: false);
        await Assert.That(s.NextRun).IsNull();
        for (var i = 0; i < 3; i++) f.Advance(OneSecond);
        await Assert.That(f.Jobs.For(s.Id).Count).IsEqualTo(0);
    }

    [Test]
    public async Task Skip_if_running_skips_while_the_previous_job_is_unfinished()
    {
        var clock = NewClock();
        var jobs = new FakeJobs(clock) { Status = JobStatus.Running };
        await using var f = await new SchedulingFixture(jobs: jobs, clock: clock).StartAsync();
        var skipper = f.Create("*/1 * * * * *", skipIfRunning: true);
        var overlapper = f.Create("*/1 * * * * *");
        for (var i = 0; i < 3; i++) f.Advance(OneSecond);
        await Assert.That(jobs.For(skipper.Id).Count).IsEqualTo(1);    // the first, then skips
        await Assert.That(jobs.For(overlapper.Id).Count).IsEqualTo(3); // default: overlapping jobs
        await Assert.That(f.Store.Get(skipper.Id)!.SkippedCount).IsEqualTo(2);
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_schedule_firings_total{result=\"skipped_running\"} 2\n");

        jobs.Status = JobStatus.Completed; // the previous job finished: the next firing submits again
        f.Advance(OneSecond);
        await Assert.That(jobs.For(skipper.Id).Count).IsEqualTo(2);
    }

    [Test]
    public async Task A_full_job_queue_skips_the_firing_and_the_schedule_goes_on()
    {
        var clock = NewClock();
        var jobs = new FakeJobs(clock) { QueueFull = true };
        await using var f = await new SchedulingFixture(jobs: jobs, clock: clock).StartAsync();
        var s = f.Create("*/1 * * * * *");
        f.Advance(OneSecond);
        f.Advance(OneSecond);
        await Assert.That(jobs.Attempts).IsEqualTo(2);
        await Assert.That(f.Store.Get(s.Id)!.SkippedCount).IsEqualTo(2);
        await Assert.That(f.Store.Get(s.Id)!.RunCount).IsEqualTo(0);
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_schedule_firings_total{result=\"skipped_queue_full\"} 2\n");

        jobs.QueueFull = false;
        f.Advance(OneSecond);
        await Assert.That(jobs.For(s.Id).Count).IsEqualTo(1);
    }

    [Test]
    public async Task A_failing_job_service_counts_failed_and_the_schedule_goes_on()
    {
        var clock = NewClock();
        var jobs = new FakeJobs(clock) { Broken = true };
        await using var f = await new SchedulingFixture(jobs: jobs, clock: clock).StartAsync();
        var s = f.Create("*/1 * * * * *");
        f.Advance(OneSecond);
        f.Advance(OneSecond);
        await Assert.That(jobs.Attempts).IsEqualTo(2);
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_schedule_firings_total{result=\"failed\"} 2\n");
        await Assert.That(f.Store.Get(s.Id)!.NextRun).IsNotNull(); // still planned
    }

    [Test]
    public async Task A_restart_resumes_at_the_next_occurrence_without_replaying_missed_firings()
    {
        using var dir = new TempDir();
        var clock = NewClock();
        string everySecond, hourly, disabled;
        await using (var first = await new SchedulingFixture(dir.Path, clock: clock).StartAsync())
        {
            everySecond = first.Create("*/1 * * * * *").Id;
            hourly = first.Create("@hourly").Id;
            disabled = first.Create("*/1 * * * * *", enabled: false).Id;
            first.Advance(OneSecond);
            await Assert.That(first.Jobs.For(everySecond).Count).IsEqualTo(1);
        }
        var lastRun = new ScheduleStore(new Kernel.Db.Database(dir.Path)).Get(everySecond)!.LastRun;

        // Down for an hour: 3,600 every-second firings were missed.
        clock.Advance(TimeSpan.FromHours(1));
        var jobs = new FakeJobs(clock);
        await using var second = await new SchedulingFixture(dir.Path, jobs, clock).StartAsync();
        var resumed = second.Store.Get(everySecond)!;
        await Assert.That(resumed.Enabled).IsTrue();
        await Assert.That(resumed.NextRun).IsEqualTo(new DateTimeOffset(2026, 3, 1, 13, 0, 2, TimeSpan.Zero));
        await Assert.That(resumed.LastRun).IsEqualTo(lastRun);
        await Assert.That(second.Store.Get(hourly)!.NextRun).IsEqualTo(new DateTimeOffset(2026, 3, 1, 14, 0, 0, TimeSpan.Zero));
        await Assert.That(second.Store.Get(disabled)!.Enabled).IsFalse();
        await Assert.That(second.Store.Get(disabled)!.NextRun).IsNull();
        await Assert.That(jobs.Submitted.Count).IsEqualTo(0); // nothing replayed at start

        second.Advance(OneSecond);
        await Assert.That(jobs.For(everySecond).Count).IsEqualTo(1);
        await Assert.That(jobs.For(disabled).Count).IsEqualTo(0);
        await Assert.That(second.Metrics.Render()).Contains("hoody_curl_schedules_enabled 2");
    }

    [Test]
    public async Task Creation_validates_cron_time_zone_name_and_the_ssrf_precheck()
    {
        await using var f = await new SchedulingFixture(clock: NewClock()).StartAsync();
        var request = new CurlRequest { Url = "http://upstream.test/x" };
        async Task Refused(ScheduleDraft draft, int status, string code)
        {
            var error = Assert.Throws<ApiErrorException>(() => f.Service.Create(draft)).Error;
            await Assert.That(error.Status).IsEqualTo(status);
            await Assert.That(error.Code).IsEqualTo(code);
        }
        await Refused(new ScheduleDraft { Cron = "*/15 * * * *", Request = request }, 400, "INVALID_CRON");
        await Refused(new ScheduleDraft { Cron = "@hourly", Request = request, TimeZone = "Mars/Olympus" }, 400, "VALIDATION_ERROR");
        await Refused(new ScheduleDraft { Cron = "@hourly", Request = request, Name = new string('n', 257) }, 400, "VALIDATION_ERROR");
        await Refused(new ScheduleDraft { Cron = "@hourly", Request = request with { Url = "http://blocked.test/" } }, 403, "SSRF_BLOCKED");
        await Assert.That(f.Store.List(1, null).Total).IsEqualTo(0);

        var named = f.Service.Create(new ScheduleDraft { Cron = "@hourly", Request = request with { JobName = "job" }, Name = "schedule" });
        await Assert.That(named.Name).IsEqualTo("schedule");
        var fromJob = f.Service.Create(new ScheduleDraft { Cron = "@hourly", Request = request with { JobName = "job" } });
        await Assert.That(fromJob.Name).IsEqualTo("job");
        var utc = f.Service.Create(new ScheduleDraft { Cron = "@daily", Request = request });
        await Assert.That(utc.TimeZone).IsEqualTo("UTC");
        await Assert.That(utc.NextRun!.Value.TimeOfDay).IsEqualTo(TimeSpan.Zero);
        var kolkata = f.Service.Create(new ScheduleDraft { Cron = "@daily", Request = request, TimeZone = "Asia/Kolkata" });
        await Assert.That(kolkata.NextRun!.Value.TimeOfDay).IsEqualTo(new TimeSpan(18, 30, 0)); // midnight IST
        await Assert.That(f.Service.Get("not-a-uuid")).IsNull();
    }

    [Test]
    public async Task Two_hundred_every_second_schedules_each_fire_once_in_every_second()
    {
        var clock = NewClock();
        await using var f = await new SchedulingFixture(clock: clock).StartAsync();
        var ids = Enumerable.Range(0, 200).Select(_ => f.Create("*/1 * * * * *").Id).ToList();
        for (var i = 0; i < 5; i++) f.Advance(OneSecond);
        foreach (var id in ids)
        {
            var fired = f.Jobs.For(id);
            await Assert.That(fired.Count).IsEqualTo(5);
            // one firing in each of the five seconds, none twice
            await Assert.That(fired.Select(x => x.At.ToUnixTimeSeconds()).Distinct().Count()).IsEqualTo(5);
        }
        var perSecond = f.Jobs.Submitted.GroupBy(x => x.At.ToUnixTimeSeconds()).Select(g => g.Count()).ToList();
        await Assert.That(perSecond.Count).IsEqualTo(5);
        foreach (var count in perSecond) await Assert.That(count).IsEqualTo(200);
        foreach (var id in ids) await Assert.That(f.Store.Get(id)!.RunCount).IsEqualTo(5);
    }
}
