// One owner per storage dir (issue 15, item 1): a second sidecar on the same folder exits 1 naming the
// folder and the holder's PID and changes nothing the first one is doing; a port clash fails before
// anything on disk is touched.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Jobs;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Operator;

public class StorageOwnershipTests
{
    [Test]
    public async Task Second_instance_on_the_same_storage_dir_exits_1_and_the_first_ones_job_completes()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var first = await Sidecar.StartAsync();
        const int n = 1500; // 15 chunks, 200 ms apart: ~3 s
        var id = await JobsApi.SubmitAsync(first.Client, upstream.Url($"/slow/{n}?chunk=100&interval_ms=200"));
        for (var tries = 0; tries < 400 && (await JobsApi.GetAsync(first.Client, id)).Status() != "running"; tries++) await Task.Delay(10);
        await Assert.That((await JobsApi.GetAsync(first.Client, id)).Status()).IsEqualTo("running");

        var (code, stdout, stderr) = await BinaryRun.RunAsync("--listen", $"127.0.0.1:{Sidecar.FreePort()}", "--storage-dir", first.StorageDir,
            "--allow-cidr", "127.0.0.1/32");
        await Assert.That(code).IsEqualTo(1);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await Assert.That(lines.Length).IsEqualTo(1);
        await Assert.That(lines[0]).Contains(first.StorageDir);
        await Assert.That(lines[0]).Contains($"pid {first.Pid}");
        await Assert.That(stdout).IsEmpty();

        // The first instance's job was not "recovered" by the second one: it finishes and its body is whole.
        var job = await JobsApi.WaitAsync(first.Client, id);
        await Assert.That(job.Status()).IsEqualTo("completed");
        var (status, sha, length) = await JobsApi.ResultDigestAsync(first.Client, id);
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(length).IsEqualTo(n);
        await Assert.That(sha).IsEqualTo(JobsApi.Sha256(JobsApi.SlowBody(n)));
        await Assert.That(first.HasExited).IsFalse();
    }

    [Test]
    public async Task The_lock_dies_with_its_holder()
    {
        await using var first = await Sidecar.StartAsync();
        await first.KillAsync(); // SIGKILL: no clean-up, the kernel drops the flock
        await using var second = await Sidecar.StartInAsync(first.StorageDir);
        var (status, _) = await second.Client.GetJsonAsync("/health");
        await Assert.That(status).IsEqualTo(200);
    }

    [Test]
    public async Task A_port_clash_exits_1_and_leaves_the_job_store_untouched()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        // A store with a job that a restart would recover (running when its process died).
        var store = Directory.CreateTempSubdirectory("hoody-e2e-clash-").FullName;
        try
        {
            string id;
            await using (var crashed = await Sidecar.StartInAsync(store))
            {
                id = await JobsApi.SubmitAsync(crashed.Client, upstream.Url("/slow/3000?chunk=100&interval_ms=500"));
                for (var tries = 0; tries < 400 && (await JobsApi.GetAsync(crashed.Client, id)).Status() != "running"; tries++) await Task.Delay(10);
                await crashed.KillAsync();
            }
            var before = BinaryRun.Snapshot(store);

            await using var holder = await Sidecar.StartAsync();
            var (code, _, stderr) = await BinaryRun.RunAsync("--listen", $"127.0.0.1:{holder.Port}", "--storage-dir", store);
            await Assert.That(code).IsEqualTo(1);
            await Assert.That(stderr.Trim()).IsEqualTo($"hoody-curl: cannot listen: address already in use (127.0.0.1:{holder.Port})");
            await Assert.That(BinaryRun.Snapshot(store)).IsEqualTo(before);

            // What a start that does bind would have changed: the interrupted job is recovered as failed.
            await using var restarted = await Sidecar.StartInAsync(store);
            var job = await JobsApi.GetAsync(restarted.Client, id);
            await Assert.That(job.Status()).IsEqualTo("failed");
            await Assert.That(job.GetProperty("error").GetString()).IsEqualTo("interrupted by restart");
        }
        finally
        {
            try { Directory.Delete(store, recursive: true); } catch (IOException) { }
        }
    }
}
