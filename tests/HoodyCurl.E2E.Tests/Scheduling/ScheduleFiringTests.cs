// Issue 6 acceptance against the real binary: a `*/1 * * * * *` schedule fires once per second and
// each firing is a job that completes against the upstream; toggle off stops it, on resumes it;
// delete stops it for good (404 after), and the jobs it made remain.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Jobs;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Scheduling;

public class ScheduleFiringTests
{
    [Test]
    public async Task Every_second_schedule_makes_4_to_6_jobs_in_5_seconds_each_completed_against_the_upstream()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var trace = Guid.NewGuid().ToString("N");
        var start = DateTimeOffset.UtcNow;
        var schedule = await SchedulesApi.CreateAsync(client, "*/1 * * * * *", upstream.Url($"/status/200?trace={trace}"),
            extraRequestFields: ",\"job_name\":\"tick\"");
        var id = schedule.Str("schedule_id");
        await Assert.That(schedule.Str("id")).IsEqualTo(id);
        await Assert.That(schedule.Str("name")).IsEqualTo("tick");
        // Five firings, waited for with a deadline (a fixed sleep counted fewer on a stalled CI machine).
        var jobs = await SchedulesApi.JobsAsync(client, id);
        for (var deadline = DateTime.UtcNow.AddSeconds(20); jobs.Count < 5 && DateTime.UtcNow < deadline; jobs = await SchedulesApi.JobsAsync(client, id))
            await Task.Delay(250);
        var inWindow = jobs.Where(j => j.Time("created_at") >= start).ToList();
        await Assert.That(inWindow.Count).IsGreaterThanOrEqualTo(5);
        foreach (var summary in jobs)
        {
            await Assert.That(summary.Str("schedule_id")).IsEqualTo(id);
            await Assert.That(summary.Str("name")).IsEqualTo("tick");
            var job = await JobsApi.WaitAsync(client, summary.Str("id"), 30_000);
            await Assert.That(job.Status()).IsEqualTo("completed");
            await Assert.That(job.GetProperty("response").GetProperty("status_code").GetInt32()).IsEqualTo(200);
            await Assert.That(job.Str("schedule_id")).IsEqualTo(id);
        }
        // One firing per second: consecutive jobs are about a second apart (give or take the lag of a
        // loaded machine), never a burst.
        var times = jobs.Select(j => j.Time("created_at")).Order().ToList();
        for (var i = 1; i < times.Count; i++)
            await Assert.That((times[i] - times[i - 1]).TotalMilliseconds).IsBetween(300, 2700);
        // ...and on average one per second: a lost second here and there under load, not a slower rhythm.
        await Assert.That((times[^1] - times[0]).TotalMilliseconds / (times.Count - 1)).IsLessThan(1500);
        await Assert.That(upstream.Trace(trace).Hits).IsGreaterThanOrEqualTo(jobs.Count);

        var (status, after) = await client.GetJsonAsync($"{SchedulesApi.Path}/{id}");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(after.GetProperty("run_count").GetInt64()).IsGreaterThanOrEqualTo(inWindow.Count);
        await Assert.That(after.Time("last_run")).IsGreaterThan(start);
        await Assert.That(after.Time("next_run")).IsGreaterThan(after.Time("last_run"));

        var metrics = await client.GetStringAsync("/metrics");
        await Assert.That(metrics).Contains("hoody_curl_schedules_enabled 1");
        await Assert.That(metrics).Contains("hoody_curl_schedule_firings_total{result=\"submitted\"}");
        await Assert.That(metrics).Contains("hoody_curl_schedule_lag_seconds_bucket{le=\"0.05\"}");
    }

    [Test]
    public async Task Toggle_off_stops_toggle_on_resumes_delete_stops_for_good()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var id = (await SchedulesApi.CreateAsync(client, "*/1 * * * * *", upstream.Url("/status/200"))).Str("schedule_id");
        await SchedulesApi.EventuallyAsync(async () => (await SchedulesApi.JobsAsync(client, id)).Count >= 2, 15000, "two firings");

        var off = await SchedulesApi.SetEnabledAsync(client, id, false);
        await Assert.That(off.GetProperty("enabled").GetBoolean()).IsFalse();
        await Assert.That(off.GetProperty("next_run").ValueKind).IsEqualTo(System.Text.Json.JsonValueKind.Null);
        var countOff = await SettledCountAsync(client, id); // a firing handed over at the moment of the toggle may still land
        await Task.Delay(2500);
        await Assert.That((await SchedulesApi.JobsAsync(client, id)).Count).IsEqualTo(countOff);

        var on = await SchedulesApi.SetEnabledAsync(client, id, true);
        await Assert.That(on.GetProperty("enabled").GetBoolean()).IsTrue();
        await Assert.That(on.Time("next_run")).IsGreaterThan(DateTimeOffset.UtcNow.AddSeconds(-1));
        await SchedulesApi.EventuallyAsync(async () => (await SchedulesApi.JobsAsync(client, id)).Count >= countOff + 2, 15000, "resumed firings");

        var (deleted, body) = await SchedulesApi.DeleteAsync(client, id);
        await Assert.That(deleted).IsEqualTo(200);
        await Assert.That(body.Str("message")).IsEqualTo("Schedule deleted");
        await Assert.That(body.Str("id")).IsEqualTo(id);
        var countDeleted = await SettledCountAsync(client, id);
        await Task.Delay(2500);
        await Assert.That((await SchedulesApi.JobsAsync(client, id)).Count).IsEqualTo(countDeleted); // jobs remain, no new ones

        var (get, error) = await client.GetJsonAsync($"{SchedulesApi.Path}/{id}");
        await Assert.That(get).IsEqualTo(404);
        await Assert.That(error.Str("error")).IsEqualTo("SCHEDULE_NOT_FOUND");
        await Assert.That((await SchedulesApi.ToggleAsync(client, id, """{"enabled":true}""")).Status).IsEqualTo(404);
        await Assert.That((await SchedulesApi.DeleteAsync(client, id)).Status).IsEqualTo(404);
        await Assert.That(await client.GetStringAsync("/metrics")).Contains("hoody_curl_schedules_enabled 0");
    }

    [Test]
    public async Task Skip_if_running_skips_firings_while_the_previous_job_runs_and_overlap_is_the_default()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        // Each job takes 2.5 s; the schedules fire every second.
        var skipper = (await SchedulesApi.CreateAsync(client, "*/1 * * * * *", upstream.Url("/delay/2500?s=skip"),
            extraFields: ",\"skip_if_running\":true")).Str("schedule_id");
        var overlapper = (await SchedulesApi.CreateAsync(client, "*/1 * * * * *", upstream.Url("/delay/2500?s=overlap"))).Str("schedule_id");
        // Until the skipper has skipped twice and the overlapper fired three times (bounded; a fixed sleep counted
        // fewer on a stalled CI machine).
        await SchedulesApi.EventuallyAsync(async () =>
        {
            var (_, s) = await client.GetJsonAsync($"{SchedulesApi.Path}/{skipper}");
            return s.GetProperty("skipped_count").GetInt64() >= 2 && (await SchedulesApi.JobsAsync(client, overlapper)).Count >= 3;
        }, 20000, "two skips and three overlapping firings");
        await SchedulesApi.SetEnabledAsync(client, skipper, false);
        await SchedulesApi.SetEnabledAsync(client, overlapper, false);

        var overlapping = await SchedulesApi.JobsAsync(client, overlapper);
        var skipping = await SchedulesApi.JobsAsync(client, skipper);
        await Assert.That(overlapping.Count).IsGreaterThanOrEqualTo(3); // one per second, running side by side
        await Assert.That(skipping.Count).IsGreaterThanOrEqualTo(1);
        await Assert.That(skipping.Count).IsLessThan(overlapping.Count);
        // The next firing waits for the job to end: the skipper's jobs start at least a 2.5 s job apart.
        var starts = skipping.Select(j => j.Time("created_at")).Order().ToList();
        for (var i = 1; i < starts.Count; i++)
            await Assert.That((starts[i] - starts[i - 1]).TotalMilliseconds).IsGreaterThan(2000);
        var (_, schedule) = await client.GetJsonAsync($"{SchedulesApi.Path}/{skipper}");
        await Assert.That(schedule.GetProperty("skipped_count").GetInt64()).IsGreaterThanOrEqualTo(2);
        await Assert.That(schedule.GetProperty("skip_if_running").GetBoolean()).IsTrue();
        await Assert.That(await client.GetStringAsync("/metrics")).DoesNotContain("hoody_curl_schedule_firings_total{result=\"skipped_running\"} 0");
    }

    /// <summary>
    /// The schedule's job count once it stops moving: read until two reads 1.2 s apart agree (deadline 15 s). A
    /// schedule that still fires every second never settles, so the deadline fails the test.
    /// </summary>
    private static async Task<int> SettledCountAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var last = (await SchedulesApi.JobsAsync(client, id)).Count;
        while (true)
        {
            await Task.Delay(1200);
            var now = (await SchedulesApi.JobsAsync(client, id)).Count;
            if (now == last) return now;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"schedule {id} kept adding jobs ({last} -> {now})");
            last = now;
        }
    }
}
