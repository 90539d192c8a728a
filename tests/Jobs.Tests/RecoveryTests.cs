// Crash safety: a store left by a dead process (running and pending jobs, half-written temp files,
// stray folders) is recovered by the next start exactly as the contract says.
using HoodyCurl.Jobs.Tests.Support;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Jobs.Tests;

public class RecoveryTests
{
    /// <summary>Leaves jobs as a killed process would: some running (with a half body), some pending.</summary>
    private static async Task<(List<string> Running, List<string> Pending, string RunningPost, string CancelRequested)> CrashAsync(string dir)
    {
        await using var dead = new JobsFixture(storageDir: dir); // never started: no workers
        var running = new List<string>();
        var pending = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var job = await dead.SubmitAsync($"http://upstream.test/run/{i}", method: i == 0 ? "PUT" : "GET");
            dead.Store.TryStart(job.Id);
            var temp = dead.Files.CreateBodyTemp(job.Id);
            await temp.WriteAsync(new byte[1000]);
            await temp.DisposeAsync(); // never committed
            running.Add(job.Id);
        }
        var post = await dead.SubmitAsync("http://upstream.test/post", method: "POST");
        dead.Store.TryStart(post.Id);
        var cancel = await dead.SubmitAsync("http://upstream.test/cancel");
        dead.Store.TryStart(cancel.Id);
        dead.Store.MarkCancelRequested(cancel.Id);
        for (var i = 0; i < 5; i++) pending.Add((await dead.SubmitAsync($"http://upstream.test/pending/{i}")).Id);
        Directory.CreateDirectory(Path.Combine(dead.Files.Root, HoodyCurl.Kernel.Ids.New())); // stray folder
        return (running, pending, post.Id, cancel.Id);
    }

    [Test]
    public async Task Restart_fails_interrupted_jobs_and_runs_pending_ones()
    {
        using var dir = new TempDir();
        var (running, pending, post, cancel) = await CrashAsync(dir.Path);

        await using var next = await new JobsFixture(storageDir: dir.Path).StartAsync();
        foreach (var id in running.Append(post))
        {
            var job = next.Service.Get(id)!;
            await Assert.That(job.Status).IsEqualTo(JobStatus.Failed);
            await Assert.That(job.Error).IsEqualTo("interrupted by restart");
            await Assert.That(Directory.Exists(next.Files.Directory(id))).IsFalse();
        }
        var cancelled = next.Service.Get(cancel)!;
        await Assert.That(cancelled.Status).IsEqualTo(JobStatus.Cancelled);
        await Assert.That(cancelled.Error).IsEqualTo("Cancelled");
        foreach (var id in pending)
            await Assert.That((await next.WaitTerminalAsync(id)).Status).IsEqualTo(JobStatus.Completed);
        await Assert.That(next.Executor.Calls).IsEqualTo(pending.Count);
        await Assert.That(next.Store.List(new JobQuery()).Total).IsEqualTo(running.Count + pending.Count + 2);
        await Assert.That(Directory.GetDirectories(next.Files.Root).Length).IsEqualTo(pending.Count);
        await Assert.That(next.Database.IntegrityCheck()).IsEqualTo("ok");
        var failedEvent = next.Events.ReadAfter(0, post)[^1];
        await Assert.That(failedEvent.PayloadJson).Contains("\"status\":\"failed\"");
        await Assert.That(failedEvent.Message).Contains("interrupted by restart");
        await Assert.That(next.Metrics.Render()).Contains("hoody_curl_jobs_total{status=\"failed\"} 4");
    }

    [Test]
    public async Task Requeue_interrupted_reruns_only_idempotent_methods()
    {
        using var dir = new TempDir();
        var (running, pending, post, _) = await CrashAsync(dir.Path);

        await using var next = await new JobsFixture(new JobsOptions { RequeueInterrupted = true }, storageDir: dir.Path).StartAsync();
        foreach (var id in running.Concat(pending))
        {
            var job = await next.WaitTerminalAsync(id);
            await Assert.That(job.Status).IsEqualTo(JobStatus.Completed);
            await Assert.That(File.Exists(next.Files.Body(id))).IsTrue();
        }
        var failed = next.Service.Get(post)!;
        await Assert.That(failed.Status).IsEqualTo(JobStatus.Failed);
        await Assert.That(failed.Error).IsEqualTo("interrupted by restart");
        await Assert.That(next.Executor.Calls).IsEqualTo(running.Count + pending.Count);
    }

    [Test]
    public async Task A_second_restart_changes_nothing_more()
    {
        using var dir = new TempDir();
        var (running, pending, _, _) = await CrashAsync(dir.Path);
        await using (var first = await new JobsFixture(storageDir: dir.Path).StartAsync())
        {
            foreach (var id in pending) await first.WaitTerminalAsync(id);
        }
        await using var second = await new JobsFixture(storageDir: dir.Path).StartAsync();
        await Task.Delay(100);
        await Assert.That(second.Executor.Calls).IsEqualTo(0);
        await Assert.That(second.Store.List(new JobQuery { Statuses = ["completed"] }).Total).IsEqualTo(pending.Count);
        await Assert.That(second.Store.List(new JobQuery { Statuses = ["failed"] }).Total).IsEqualTo(running.Count + 1);
        await Assert.That(second.Database.SchemaVersion(JobStore.Module)).IsEqualTo(JobStore.Migrations.Count);
    }

    [Test]
    public async Task Shutdown_leaves_queued_jobs_pending_for_the_next_start()
    {
        using var dir = new TempDir();
        var gate = new TaskCompletionSource();
        var executor = new ScriptedExecutor { Handler = async (_, _, ct) => { await gate.Task.WaitAsync(ct); return Upstream.Respond([1]); } };
        string blocked;
        var queued = new List<string>();
        await using (var f = await new JobsFixture(new JobsOptions { MaxConcurrentJobs = 1 }, dir.Path, executor).StartAsync())
        {
            blocked = (await f.SubmitAsync(method: "POST")).Id;
            await JobServiceTests.WaitUntil(() => executor.Calls == 1);
            for (var i = 0; i < 3; i++) queued.Add((await f.SubmitAsync()).Id);
            using var cts = new CancellationTokenSource(200);
            await f.Lifecycle.StopAsync(cts.Token); // running job is interrupted after the grace period
            var interrupted = f.Service.Get(blocked)!;
            await Assert.That(interrupted.Status).IsEqualTo(JobStatus.Failed);
            await Assert.That(interrupted.Error).IsEqualTo("interrupted by shutdown");
            foreach (var id in queued) await Assert.That(f.Service.Get(id)!.Status).IsEqualTo(JobStatus.Pending);
        }
        await using var next = await new JobsFixture(storageDir: dir.Path).StartAsync();
        foreach (var id in queued) await Assert.That((await next.WaitTerminalAsync(id)).Status).IsEqualTo(JobStatus.Completed);
    }

    [Test]
    public async Task Retention_sweep_removes_old_jobs_and_their_files()
    {
        await using var f = await new JobsFixture(new JobsOptions { RetentionDays = 1 }).StartAsync();
        var job = await f.SubmitAsync();
        await f.WaitTerminalAsync(job.Id);
        await Assert.That(f.Lifecycle.SweepRetention()).IsEqualTo(0);
        using (var c = f.Database.Open())
        {
            using var command = c.CreateCommand();
            command.CommandText = "UPDATE jobs SET completed_at = '2000-01-01T00:00:00.000Z'";
            command.ExecuteNonQuery();
        }
        await Assert.That(f.Lifecycle.SweepRetention()).IsEqualTo(1);
        await Assert.That(f.Service.Get(job.Id)).IsNull();
        await Assert.That(Directory.Exists(f.Files.Directory(job.Id))).IsFalse();
    }
}
