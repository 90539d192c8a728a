// The service and worker pool end to end over a real store: streaming bodies to files, inline vs
// truncated records, cancel of pending and running jobs, queue full, long-poll wake-up, failures.
using System.Diagnostics;
using System.Security.Cryptography;
using HoodyCurl.Jobs.Tests.Support;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Jobs.Tests;

public class JobServiceTests
{
    [Test]
    public async Task A_job_streams_its_body_to_a_file_and_completes()
    {
        var body = RandomNumberGenerator.GetBytes(300_000);
        var executor = new ScriptedExecutor { Handler = (_, o, _) => Task.FromResult(Upstream.Respond(body, attempts: 3, progress: o.OnProgress, chunkDelay: TimeSpan.FromMilliseconds(5))) };
        await using var f = await new JobsFixture(new JobsOptions { InlineBodyBytes = 1000 }, executor: executor).StartAsync();
        var submitted = await f.SubmitAsync(name: "big");
        await Assert.That(submitted.Status).IsEqualTo(JobStatus.Pending);

        var job = await f.WaitTerminalAsync(submitted.Id);
        await Assert.That(job.Status).IsEqualTo(JobStatus.Completed);
        await Assert.That(job.RetryAttempts).IsEqualTo(3);
        await Assert.That(job.Progress).IsEqualTo(1.0);
        await Assert.That(job.Response!.BodyBytes).IsEqualTo(body.Length);
        await Assert.That(job.Response.StatusCode).IsEqualTo(200);
        var path = f.Files.Body(job.Id);
        await Assert.That(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))).IsEqualTo(Convert.ToHexString(SHA256.HashData(body)));
        await Assert.That(File.GetUnixFileMode(path)).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await Assert.That(File.Exists(path + ".tmp")).IsFalse();
        await Assert.That(f.Service.InlineBody(job)).IsNull(); // over the inline limit: body [] + body_truncated

        var json = JobStoreTests.Render(job, f.Service.InlineBody(job));
        await Assert.That(json).Contains("\"body\":[],\"body_truncated\":true,\"body_bytes\":300000");

        var events = f.Events.ReadAfter(0, job.Id);
        await Assert.That(events[0].Type).IsEqualTo("jobstarted");
        await Assert.That(events[^1].Type).IsEqualTo("jobcompleted");
        var progress = events.Where(e => e.Type == "jobprogress").ToList();
        await Assert.That(progress.Count).IsGreaterThan(0);
        await Assert.That(progress.Count).IsLessThanOrEqualTo(101);
        await Assert.That(progress[^1].PayloadJson).Contains("\"progress\":1");
        for (var i = 1; i < progress.Count - 1; i++)
            // 250 ms throttle on the monotonic clock; the event's timestamp is taken a moment later, so a preempted
            // thread can bring two stamps a little closer (200: still far from an unthrottled stream).
            await Assert.That((progress[i].Timestamp - progress[i - 1].Timestamp).TotalMilliseconds).IsGreaterThanOrEqualTo(200);

        var metrics = f.Metrics.Render();
        await Assert.That(metrics).Contains("hoody_curl_jobs_total{status=\"completed\"} 1");
        await Assert.That(metrics).Contains("hoody_curl_job_duration_seconds_count{status=\"completed\"} 1");
    }

    [Test]
    public async Task Small_bodies_are_inline_as_byte_arrays()
    {
        var executor = new ScriptedExecutor { Handler = (_, _, _) => Task.FromResult(Upstream.Respond("%PDF"u8.ToArray(), headers:
            [new HeaderEntry("Content-Type", "application/pdf"), new HeaderEntry("Set-Cookie", "a=1"), new HeaderEntry("Set-Cookie", "b=2"),
             new HeaderEntry("X-Multi", "1"), new HeaderEntry("x-multi", "2")])) };
        await using var f = await new JobsFixture(executor: executor).StartAsync();
        var job = await f.WaitTerminalAsync((await f.SubmitAsync()).Id);
        var json = JobStoreTests.Render(job, f.Service.InlineBody(job));
        await Assert.That(json).Contains("\"body\":[37,80,68,70],\"body_truncated\":false,\"body_bytes\":4");
        await Assert.That(json).Contains("\"headers\":{\"content-type\":\"application/pdf\",\"x-multi\":\"1, 2\",\"content-length\":\"4\"}");
        await Assert.That(json).Contains("{\"name\":\"Set-Cookie\",\"value\":\"b=2\"}");
        await Assert.That(json).Contains("\"content_type\":\"application/pdf\"");
        await Assert.That(json).Contains("\"primary_ip\":\"127.0.0.1\"");
    }

    [Test]
    public async Task Executor_refusal_fails_the_job_with_its_message()
    {
        var executor = new ScriptedExecutor
        {
            Handler = (_, _, _) => throw new ApiErrorException(new ApiError(403, ErrorCodes.SsrfBlocked, "SSRF blocked: 10.0.0.1 is in denied range 10.0.0.0/8 (RFC 1918)")),
        };
        await using var f = await new JobsFixture(executor: executor).StartAsync();
        var job = await f.WaitTerminalAsync((await f.SubmitAsync("http://10.0.0.1/")).Id);
        await Assert.That(job.Status).IsEqualTo(JobStatus.Failed);
        await Assert.That(job.Error!).Contains("10.0.0.0/8");
        await Assert.That(job.Response).IsNull();
        await Assert.That(job.RetryAttempts).IsEqualTo(1);
        await Assert.That(Directory.Exists(f.Files.Directory(job.Id))).IsFalse();
    }

    [Test]
    public async Task A_transfer_error_after_the_head_fails_the_job_and_leaves_no_body()
    {
        var executor = new ScriptedExecutor
        {
            Handler = (_, _, _) => Task.FromResult(Upstream.Respond(new byte[50_000], failAtEnd: new ApiError(502, ErrorCodes.UpstreamError, "Connection reset by peer"))),
        };
        await using var f = await new JobsFixture(executor: executor).StartAsync();
        var job = await f.WaitTerminalAsync((await f.SubmitAsync()).Id);
        await Assert.That(job.Status).IsEqualTo(JobStatus.Failed);
        await Assert.That(job.Error).IsEqualTo("Connection reset by peer");
        await Assert.That(File.Exists(f.Files.Body(job.Id))).IsFalse();
        await Assert.That(File.Exists(f.Files.Body(job.Id) + ".tmp")).IsFalse();
    }

    [Test]
    public async Task Cancel_of_a_pending_job_means_it_never_runs()
    {
        var gate = new TaskCompletionSource();
        var executor = new ScriptedExecutor
        {
            Handler = async (_, _, ct) => { await gate.Task.WaitAsync(ct); return Upstream.Respond([1]); },
        };
        await using var f = await new JobsFixture(new JobsOptions { MaxConcurrentJobs = 1 }, executor: executor).StartAsync();
        var blocker = await f.SubmitAsync();
        var pending = await f.SubmitAsync();
        await WaitUntil(() => executor.Calls == 1);
        await Assert.That(f.Service.Cancel(pending.Id)).IsEqualTo(CancelResult.Requested);
        var cancelled = f.Service.Get(pending.Id)!;
        await Assert.That(cancelled.Status).IsEqualTo(JobStatus.Cancelled);
        await Assert.That(cancelled.Error).IsEqualTo("Cancelled");
        await Assert.That(cancelled.CancelRequested).IsTrue();
        gate.SetResult();
        await f.WaitTerminalAsync(blocker.Id);
        // One worker, FIFO: a probe submitted now runs after anything still queued, so once it is done the
        // cancelled job would have run already if it were going to. Waiting on that event, not a sleep.
        var probe = await f.SubmitAsync();
        await f.WaitTerminalAsync(probe.Id);
        await Assert.That(executor.Calls).IsEqualTo(2); // the blocker and the probe, never the cancelled job
        await Assert.That(f.Service.Get(pending.Id)!.Status).IsEqualTo(JobStatus.Cancelled);
        await Assert.That(f.Worker.Pending).IsEqualTo(0);
        // Cancelling again changes nothing.
        await Assert.That(f.Service.Cancel(pending.Id)).IsEqualTo(CancelResult.AlreadyFinished);
        await Assert.That(f.Service.Cancel(blocker.Id)).IsEqualTo(CancelResult.AlreadyFinished);
        await Assert.That(f.Service.Get(blocker.Id)!.Status).IsEqualTo(JobStatus.Completed);
        await Assert.That(f.Service.Cancel(HoodyCurl.Kernel.Ids.New())).IsEqualTo(CancelResult.NotFound);
        await Assert.That(f.Service.Cancel("not-a-uuid")).IsEqualTo(CancelResult.NotFound);
    }

    [Test]
    public async Task Cancel_of_a_running_transfer_ends_it_within_a_second()
    {
        var executor = new ScriptedExecutor
        {
            // 30 s of body: 300 chunks of 1 KiB every 100 ms.
            Handler = (_, _, _) => Task.FromResult(Upstream.Respond(new byte[300 * 1024], chunkSize: 1024, chunkDelay: TimeSpan.FromMilliseconds(100))),
        };
        await using var f = await new JobsFixture(executor: executor).StartAsync();
        var job = await f.SubmitAsync();
        await WaitUntil(() => f.Service.Get(job.Id)!.Status == JobStatus.Running && executor.Calls == 1);
        await Task.Delay(200);
        var clock = Stopwatch.StartNew();
        await Assert.That(f.Service.Cancel(job.Id)).IsEqualTo(CancelResult.Requested);
        // Ends promptly (the 1 s acceptance figure is checked end to end in the E2E suite).
        var done = await f.WaitTerminalAsync(job.Id, 10_000);
        await Assert.That(clock.ElapsedMilliseconds).IsLessThan(10_000);
        await Assert.That(done.Status).IsEqualTo(JobStatus.Cancelled);
        await Assert.That(done.Error).IsEqualTo("Cancelled");
        await Assert.That(Directory.Exists(f.Files.Directory(job.Id))).IsFalse();
        await Assert.That(f.Events.ReadAfter(0, job.Id)[^1].PayloadJson).Contains("\"status\":\"cancelled\"");
    }

    [Test]
    public async Task Cancel_before_the_head_aborts_the_send()
    {
        var executor = new ScriptedExecutor
        {
            Handler = async (_, _, ct) => { await Task.Delay(30_000, ct); return Upstream.Respond([1]); },
        };
        await using var f = await new JobsFixture(executor: executor).StartAsync();
        var job = await f.SubmitAsync();
        await WaitUntil(() => executor.Calls == 1);
        f.Service.Cancel(job.Id);
        var done = await f.WaitTerminalAsync(job.Id, 10_000); // a deadline, not a latency figure: slow CI machines
        await Assert.That(done.Status).IsEqualTo(JobStatus.Cancelled);
    }

    [Test]
    public async Task A_full_queue_answers_503_with_retry_after()
    {
        var gate = new TaskCompletionSource();
        var executor = new ScriptedExecutor { Handler = async (_, _, ct) => { await gate.Task.WaitAsync(ct); return Upstream.Respond([1]); } };
        await using var f = await new JobsFixture(new JobsOptions { MaxConcurrentJobs = 1, MaxPendingJobs = 2 }, executor: executor).StartAsync();
        var first = await f.SubmitAsync();
        await WaitUntil(() => executor.Calls == 1);
        await f.SubmitAsync();
        var third = await f.SubmitAsync();
        var error = await Assert.That(async () => { await f.SubmitAsync(); }).Throws<ApiErrorException>();
        await Assert.That(error!.Error.Status).IsEqualTo(503);
        await Assert.That(error.Error.Code).IsEqualTo("QUEUE_FULL");
        await Assert.That(error.Error.RetryAfterSeconds).IsEqualTo(5);
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_jobs_queue_depth 2");
        // A cancelled pending job frees its slot.
        f.Service.Cancel(third.Id);
        await f.SubmitAsync();
        gate.SetResult();
        await f.WaitTerminalAsync(first.Id);
    }

    [Test]
    public async Task Long_poll_is_woken_by_completion_or_returns_at_its_timeout()
    {
        var gate = new TaskCompletionSource();
        var executor = new ScriptedExecutor { Handler = async (_, _, ct) => { await gate.Task.WaitAsync(ct); return Upstream.Respond([1, 2]); } };
        await using var f = await new JobsFixture(executor: executor).StartAsync();
        var job = await f.SubmitAsync();

        var clock = Stopwatch.StartNew();
        var early = await f.Service.WaitAsync(job.Id, TimeSpan.FromMilliseconds(300), CancellationToken.None);
        await Assert.That(clock.ElapsedMilliseconds).IsGreaterThanOrEqualTo(280);
        await Assert.That(early!.Status).IsEqualTo(JobStatus.Running);

        var waiting = f.Service.WaitAsync(job.Id, TimeSpan.FromSeconds(30), CancellationToken.None);
        await Task.Delay(200);
        await Assert.That(waiting.IsCompleted).IsFalse();
        clock.Restart();
        gate.SetResult();
        var done = await waiting;
        await Assert.That(done!.Status).IsEqualTo(JobStatus.Completed);
        // Woken by the completion, not by its 30 s timeout. (The 100 ms acceptance figure is measured
        // end to end against the binary in the E2E suite; a unit test carries no timing threshold.)
        await Assert.That(clock.ElapsedMilliseconds).IsLessThan(10_000);
        await Assert.That(f.Waiters.Count).IsEqualTo(0);

        // Terminal already: answers at once.
        clock.Restart();
        await f.Service.WaitAsync(job.Id, TimeSpan.FromSeconds(30), CancellationToken.None);
        await Assert.That(clock.ElapsedMilliseconds).IsLessThan(10_000);
        await Assert.That(await f.Service.WaitAsync(HoodyCurl.Kernel.Ids.New(), TimeSpan.FromSeconds(1), CancellationToken.None)).IsNull();
    }

    [Test]
    public async Task Rerun_creates_a_new_job_from_the_stored_request()
    {
        CurlRequest? seen = null;
        var executor = new ScriptedExecutor { Handler = (r, _, _) => { seen = r; return Task.FromResult(Upstream.Respond([1])); } };
        await using var f = await new JobsFixture(executor: executor).StartAsync();
        var original = await f.Service.SubmitAsync(new CurlRequest { Url = "http://upstream.test/r", BearerToken = "secret", JobName = "n" }, JobOrigin.None, CancellationToken.None);
        await f.WaitTerminalAsync(original.Id);
        var rerun = await f.Service.RerunAsync(original.Id, CancellationToken.None);
        await Assert.That(rerun!.Id).IsNotEqualTo(original.Id);
        await Assert.That(rerun.OriginalJobId).IsEqualTo(original.Id);
        await Assert.That(rerun.Name).IsEqualTo("n");
        var done = await f.WaitTerminalAsync(rerun.Id);
        await Assert.That(done.Status).IsEqualTo(JobStatus.Completed);
        await Assert.That(seen!.BearerToken).IsEqualTo("secret"); // the stored copy keeps the secret for the rerun
        await Assert.That(await f.Service.RerunAsync(HoodyCurl.Kernel.Ids.New(), CancellationToken.None)).IsNull();
    }

    [Test]
    public async Task Fifty_jobs_run_with_bounded_concurrency()
    {
        var running = 0;
        var peak = 0;
        var executor = new ScriptedExecutor
        {
            Handler = async (r, _, ct) =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref peak, now);
                try { await Task.Delay(20, ct); }
                finally { Interlocked.Decrement(ref running); }
                return Upstream.Respond(System.Text.Encoding.UTF8.GetBytes(r.Url));
            },
        };
        await using var f = await new JobsFixture(new JobsOptions { MaxConcurrentJobs = 4 }, executor: executor).StartAsync();
        var jobs = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => f.SubmitAsync($"http://upstream.test/{i}")));
        foreach (var job in jobs)
        {
            var done = await f.WaitTerminalAsync(job.Id);
            await Assert.That(done.Status).IsEqualTo(JobStatus.Completed);
            await Assert.That(File.ReadAllText(f.Files.Body(job.Id))).IsEqualTo(job.Url);
        }
        await Assert.That(peak).IsLessThanOrEqualTo(4);
        await Assert.That(f.Database.IntegrityCheck()).IsEqualTo("ok");
    }

    [Test]
    public async Task The_bus_delivers_events_in_order_filters_by_job_and_counts_drops()
    {
        var executor = new ScriptedExecutor();
        await using var f = await new JobsFixture(executor: executor).StartAsync();
        using var all = f.Events.Subscribe();
        using var tiny = f.Events.Subscribe(capacity: 1);
        var a = await f.SubmitAsync(name: "a");
        await f.WaitTerminalAsync(a.Id);
        using var onlyB = f.Events.Subscribe(jobId: "will-not-match");
        var b = await f.SubmitAsync();
        await f.WaitTerminalAsync(b.Id);

        var seen = new List<JobEvent>();
        while (all.Reader.TryRead(out var e)) seen.Add(e);
        await Assert.That(seen.Count).IsGreaterThanOrEqualTo(4);
        await Assert.That(seen.Select(e => e.Id).ToArray()).IsInOrder();
        await Assert.That(seen.First(e => e.JobId == a.Id).Type).IsEqualTo("jobstarted");
        await Assert.That(onlyB.Reader.TryRead(out _)).IsFalse();
        await Assert.That(tiny.TakeMissed()).IsEqualTo(seen.Count - 1);
        await Assert.That(tiny.TakeMissed()).IsEqualTo(0);
        // The durable log holds the same ids.
        var durable = f.Events.ReadAfter(0).Select(e => e.Id).ToArray();
        await Assert.That(string.Join(",", durable)).IsEqualTo(string.Join(",", seen.Select(e => e.Id)));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    internal static async Task WaitUntil(Func<bool> condition, int timeoutMs = 5000)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException("condition not met");
            await Task.Delay(10);
        }
    }
}
