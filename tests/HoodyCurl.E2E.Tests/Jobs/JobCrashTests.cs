// kill -9 while 20 jobs are pending or running, then restart on the same storage: every job is
// there exactly once, pending ones complete, interrupted ones fail with the documented error (or
// complete again with --requeue-interrupted), and the database passes integrity_check.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Jobs;

public class JobCrashTests
{
    [Test]
    [Arguments(false)]
    [Arguments(true)]
    [NotInParallel("jobs-crash")]
    public async Task Kill_9_with_20_jobs_then_restart_loses_and_duplicates_nothing(bool requeue)
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        string[] flags = requeue ? ["--max-concurrent-jobs", "4", "--requeue-interrupted"] : ["--max-concurrent-jobs", "4"];
        await using var sidecar = await Sidecar.StartAsync(flags);
        var client = sidecar.Client;
        const int n = 1300; // 13 chunks of 100 bytes, 400 ms apart: ~5 s per job, so the 4 seen running still run at the kill
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
            ids.Add(await JobsApi.SubmitAsync(client, upstream.Url($"/slow/{n}?chunk=100&interval_ms=400&i={i}")));

        // Wait until 4 run and have written part of their bodies.
        string[] running = [];
        for (var tries = 0; tries < 200 && running.Length < 4; tries++)
        {
            var (_, list) = await client.GetJsonAsync("/api/v1/curl/jobs?status=running");
            running = [.. list.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!)];
            await Task.Delay(25);
        }
        await Assert.That(running.Length).IsEqualTo(4);
        await Task.Delay(500);

        await sidecar.KillAsync();
        var db = Path.Combine(sidecar.StorageDir, "hoody-curl.db");
        await Assert.That(await JobsApi.IntegrityCheckAsync(db)).IsEqualTo("ok");
        await sidecar.RestartAsync();

        var (_, all) = await client.GetJsonAsync("/api/v1/curl/jobs");
        var listed = all.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).ToList();
        await Assert.That(listed.Count).IsEqualTo(20);
        await Assert.That(listed.Order().SequenceEqual(ids.Order())).IsTrue();

        var expected = JobsApi.Sha256(JobsApi.SlowBody(n));
        foreach (var id in ids)
        {
            var job = await JobsApi.WaitAsync(client, id, 120_000);
            if (running.Contains(id) && !requeue)
            {
                await Assert.That(job.Status()).IsEqualTo("failed");
                await Assert.That(job.GetProperty("error").GetString()).IsEqualTo("interrupted by restart");
                await Assert.That(Directory.Exists(Path.Combine(sidecar.StorageDir, "jobs", id))).IsFalse();
            }
            else
            {
                await Assert.That(job.Status()).IsEqualTo("completed");
                var (_, sha, _) = await JobsApi.ResultDigestAsync(client, id);
                await Assert.That(sha).IsEqualTo(expected);
            }
        }
        // No half body under a real name, no temp left behind.
        var stray = Directory.EnumerateFiles(Path.Combine(sidecar.StorageDir, "jobs"), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "body").ToList();
        await Assert.That(stray.Count).IsEqualTo(0);
        var (_, failedEvents) = await client.GetJsonAsync($"/api/v1/curl/jobs/{running[0]}/events");
        var last = failedEvents.GetProperty("items").EnumerateArray().Last();
        await Assert.That(last.GetProperty("payload").GetProperty("status").GetString()).IsEqualTo(requeue ? "completed" : "failed");

        await sidecar.StopAsync();
        await Assert.That(await JobsApi.IntegrityCheckAsync(db)).IsEqualTo("ok");
    }
}
