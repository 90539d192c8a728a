// Issue 6 acceptance: kill -9 and restart on the same storage. The schedules are back with their
// enabled state, each enabled one resumes at its next occurrence, and the firings missed while the
// sidecar was down are not replayed (decisions D12): no burst of jobs after the restart.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Scheduling;

public class ScheduleRestartTests
{
    [Test]
    public async Task Kill_and_restart_keeps_schedules_and_enabled_state_without_a_burst_of_missed_firings()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var everySecond = (await SchedulesApi.CreateAsync(client, "*/1 * * * * *", upstream.Url("/status/200?s=a"),
            extraRequestFields: ",\"bearer_token\":\"s3cret\"")).Str("schedule_id");
        var disabled = (await SchedulesApi.CreateAsync(client, "*/1 * * * * *", upstream.Url("/status/200?s=b"),
            extraFields: ",\"enabled\":false")).Str("schedule_id");
        var newYork = (await SchedulesApi.CreateAsync(client, "0 30 9 * * MON-FRI", upstream.Url("/status/200?s=c"),
            extraFields: ",\"timezone\":\"America/New_York\",\"name\":\"ny-morning\"")).Str("schedule_id");
        await SchedulesApi.EventuallyAsync(async () => (await SchedulesApi.JobsAsync(client, everySecond)).Count >= 2, 15000, "two firings");

        await sidecar.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        await Task.Delay(3000); // three firings missed while down
        // The new process may fire before its /health answers (its scheduler starts with the host): nothing can have
        // fired between the kill and this moment, and anything from this moment on is the new process's.
        var restartingAt = DateTimeOffset.UtcNow;
        await sidecar.RestartAsync();

        var (status, list) = await client.GetJsonAsync(SchedulesApi.Path);
        await Assert.That(status).IsEqualTo(200);
        var items = list.GetProperty("items").EnumerateArray().ToDictionary(s => s.Str("id"));
        await Assert.That(items.Count).IsEqualTo(3);
        await Assert.That(items[everySecond].GetProperty("enabled").GetBoolean()).IsTrue();
        await Assert.That(items[disabled].GetProperty("enabled").GetBoolean()).IsFalse();
        await Assert.That(items[disabled].GetProperty("next_run").ValueKind).IsEqualTo(System.Text.Json.JsonValueKind.Null);
        await Assert.That(items[newYork].Str("timezone")).IsEqualTo("America/New_York");
        await Assert.That(items[newYork].Str("name")).IsEqualTo("ny-morning");
        var nyNext = items[newYork].Time("next_run");
        await Assert.That(nyNext.Minute).IsEqualTo(30);
        await Assert.That(nyNext.Hour is 13 or 14).IsTrue(); // 09:30 EDT or EST
        // last_run is from before the kill; next_run is the next occurrence after the restart.
        await Assert.That(items[everySecond].Time("last_run")).IsLessThan(killedAt);
        await Assert.That(items[everySecond].Time("next_run")).IsGreaterThan(killedAt.AddSeconds(2));

        // At least one firing after the restart (bounded wait), then about one per second, not the three missed at once.
        await SchedulesApi.EventuallyAsync(async () => (await SchedulesApi.JobsAsync(client, everySecond))
            .Any(j => j.Time("created_at") >= restartingAt), 15000, "a firing after the restart");
        await Task.Delay(2000);
        var jobs = await SchedulesApi.JobsAsync(client, everySecond);
        var seenAt = DateTimeOffset.UtcNow;
        var down = jobs.Where(j => j.Time("created_at") > killedAt && j.Time("created_at") < restartingAt).ToList();
        await Assert.That(down.Count).IsEqualTo(0);
        var after = jobs.Where(j => j.Time("created_at") >= restartingAt).Select(j => j.Time("created_at")).Order().ToList();
        await Assert.That(after.Count).IsBetween(1, (int)Math.Ceiling((seenAt - restartingAt).TotalSeconds) + 1);
        for (var i = 1; i < after.Count; i++)
            await Assert.That((after[i] - after[i - 1]).TotalMilliseconds).IsGreaterThan(300);
        await Assert.That((await SchedulesApi.JobsAsync(client, disabled)).Count).IsEqualTo(0);

        // The stored request kept its secret (the jobs got it), the API still redacts it.
        var (_, schedule) = await client.GetJsonAsync($"{SchedulesApi.Path}/{everySecond}");
        await Assert.That(schedule.GetProperty("request").Str("bearer_token")).IsEqualTo("***");
    }
}
