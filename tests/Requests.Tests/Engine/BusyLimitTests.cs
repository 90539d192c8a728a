// --max-busy-transfers (issue 13): while the process is CPU-saturated, a transfer loop runs at most that many young
// transfers and queues further starts in order. Transfers that grew old (a stream) let the queue move on, a process
// with CPU to spare holds nothing back, a queued transfer can be cancelled while it waits, and stopping the engine
// answers what still waits. Real libcurl, the test upstream on loopback, one transfer thread; the process's CPU clock
// is replaced where the gate is under test.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Engine;
using HoodyCurl.Requests.Model;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.Requests.Tests.Engine;

public class BusyLimitTests
{
    private static ExecutionOptions Sync() => new() { RequestId = Guid.NewGuid().ToString() };

    /// <summary>The process counts as saturated from the start, and a transfer counts until it ends.</summary>
    private static RequestsOptions Strict(RequestsOptions o) => o with { BusyTransferEvents = int.MaxValue, BusyCpuShare = 0, BusyCpuShareOff = 0 };

    private static async Task WaitFor(Func<bool> condition, string what, int seconds = 20)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(seconds); !condition(); await Task.Delay(10))
            if (DateTime.UtcNow > deadline) throw new TimeoutException("never saw: " + what);
    }

    private static async Task<bool> OkAsync(Task<UpstreamResponse> send)
    {
        await using var response = await send;
        using var body = new MemoryStream();
        await response.Body.CopyToAsync(body);
        return (await response.Completion).Ok;
    }

    [Test]
    public async Task A_full_busy_loop_queues_further_starts_and_runs_them_in_order_as_room_frees()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start(Strict, "--max-busy-transfers", "2");
        var heads = new List<int>();
        double maxActive = 0, maxWaiting = 0;
        var sends = Enumerable.Range(0, 6).Select(async i =>
        {
            await using var response = await engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/delay/300") }, Sync(), CancellationToken.None);
            lock (heads) heads.Add(i);
            using var body = new MemoryStream();
            await response.Body.CopyToAsync(body);
            return (await response.Completion).Ok;
        }).ToArray();
        var all = Task.WhenAll(sends);
        while (!all.IsCompleted)
        {
            maxActive = Math.Max(maxActive, engine.Metric("hoody_curl_transfers_active"));
            maxWaiting = Math.Max(maxWaiting, engine.Metric("hoody_curl_transfers_waiting"));
            await Task.WhenAny(all, Task.Delay(10));
        }
        await Assert.That((await all).All(ok => ok)).IsTrue();
        await Assert.That(maxActive).IsLessThanOrEqualTo(2);
        await Assert.That(maxWaiting).IsGreaterThanOrEqualTo(1);
        await Assert.That(engine.Metric("hoody_curl_transfers_waiting")).IsEqualTo(0);
        // The first two posted ran first: the others could only start once one of them had ended.
        await Assert.That(heads.Take(2).Order().ToArray()).IsEquivalentTo(new[] { 0, 1 });
        await Assert.That(engine.Metric("hoody_curl_upstream_connections_opened_total")).IsLessThanOrEqualTo(2);
    }

    [Test]
    public async Task Streams_that_grew_old_no_longer_hold_a_quick_request_back()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        // Saturated from the start: only ageing lets the quick request in while the two streams run.
        await using var engine = EngineHarness.Start(o => o with { BusyCpuShare = 0, BusyCpuShareOff = 0 }, "--max-busy-transfers", "2");
        using var stop = new CancellationTokenSource();
        var streams = new List<UpstreamResponse>();
        for (var i = 0; i < 2; i++)
            streams.Add(await engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/drip?ms=2&count=100000") }, Sync(), stop.Token));
        try
        {
            await WaitFor(() => engine.Metric("hoody_curl_transfers_active") == 2, "two streams running");
            var quick = OkAsync(engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/bytes/10") }, Sync(), CancellationToken.None));
            // The streams run for minutes: without ageing the quick request would wait for them.
            await Assert.That(await Task.WhenAny(quick, Task.Delay(TimeSpan.FromSeconds(20)))).IsSameReferenceAs(quick);
            await Assert.That(await quick).IsTrue();
            await Assert.That(streams.All(s => !s.Completion.IsCompleted)).IsTrue();
        }
        finally
        {
            stop.Cancel();
            foreach (var s in streams) await s.DisposeAsync();
        }
    }

    [Test]
    public async Task A_process_with_cpu_to_spare_holds_no_start_back()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        // Ageing off, and a process that never uses CPU: only the saturation gate lets the quick request past two
        // silent upstreams.
        await using var engine = EngineHarness.Start(o => o with { BusyTransferEvents = int.MaxValue, ProcessCpuTime = static () => TimeSpan.Zero },
            "--max-busy-transfers", "2");
        await QuickPastTwoSilentAsync(engine, upstream, held: null);
    }

    [Test]
    public async Task Starts_held_while_the_process_was_saturated_go_once_it_has_cpu_to_spare()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        // A CPU clock that runs ahead of the wall clock on every core until told to stop: saturated, then idle.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var busy = 1;
        var frozen = TimeSpan.Zero;
        TimeSpan Cpu()
        {
            if (Volatile.Read(ref busy) == 1) return frozen = started.Elapsed * (2 * Environment.ProcessorCount);
            return frozen;
        }
        await using var engine = EngineHarness.Start(o => o with { BusyTransferEvents = int.MaxValue, ProcessCpuTime = Cpu }, "--max-busy-transfers", "2");
        // Past the first measuring window, so the loop knows the process is saturated.
        await engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/delay/50") }, Sync(), CancellationToken.None)
            .ContinueWith(static t => t.Result.DisposeAsync().AsTask()).Unwrap();
        await QuickPastTwoSilentAsync(engine, upstream, held: async () =>
        {
            await WaitFor(() => engine.Metric("hoody_curl_transfers_waiting") == 1, "the quick request held while saturated");
            Volatile.Write(ref busy, 0);
        });
    }

    /// <summary>
    /// Two transfers to a silent upstream run (a limit of 2 is full), then a quick request must complete while they still
    /// run; <paramref name="held"/>, when given, runs once the quick request is queued.
    /// </summary>
    private static async Task QuickPastTwoSilentAsync(EngineHarness engine, TestUpstreamServer upstream, Func<Task>? held)
    {
        using var stop = new CancellationTokenSource();
        var silent = Enumerable.Range(0, 2)
            .Select(_ => engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/delay/60000") }, Sync(), stop.Token)).ToArray();
        try
        {
            await WaitFor(() => engine.Metric("hoody_curl_transfers_active") == 2, "two silent transfers running");
            var quick = OkAsync(engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/bytes/10") }, Sync(), CancellationToken.None));
            if (held is not null) await held();
            await Assert.That(await Task.WhenAny(quick, Task.Delay(TimeSpan.FromSeconds(20)))).IsSameReferenceAs(quick);
            await Assert.That(await quick).IsTrue();
            await Assert.That(silent.All(s => !s.IsCompleted)).IsTrue();
        }
        finally
        {
            stop.Cancel();
            foreach (var s in silent) await Assert.That(async () => await s).Throws<OperationCanceledException>();
        }
    }

    [Test]
    public async Task A_transfer_cancelled_while_it_waits_for_room_is_answered_at_once()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start(Strict, "--max-busy-transfers", "1");
        using var stopFirst = new CancellationTokenSource();
        var first = engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/delay/60000") }, Sync(), stopFirst.Token);
        await WaitFor(() => engine.Metric("hoody_curl_transfers_active") == 1, "the first transfer running");
        using var stopSecond = new CancellationTokenSource();
        var second = engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/bytes/10") }, Sync(), stopSecond.Token);
        await WaitFor(() => engine.Metric("hoody_curl_transfers_waiting") == 1, "the second transfer waiting");
        stopSecond.Cancel();
        // Answered while the first still runs (it would otherwise wait the 60 s of the first).
        await Assert.That(await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(20)))).IsSameReferenceAs(second);
        await Assert.That(async () => await second).Throws<OperationCanceledException>();
        await Assert.That(first.IsCompleted).IsFalse();
        await WaitFor(() => engine.Metric("hoody_curl_transfers_waiting") == 0, "the cancelled transfer leaving the queue");
        // The queue still works after it: the next start waits for room and runs once the first is cancelled.
        var third = OkAsync(engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/bytes/10") }, Sync(), CancellationToken.None));
        await WaitFor(() => engine.Metric("hoody_curl_transfers_waiting") == 1, "the third transfer waiting");
        stopFirst.Cancel();
        await Assert.That(async () => await first).Throws<OperationCanceledException>();
        await Assert.That(await third).IsTrue();
    }

    [Test]
    public async Task Stopping_the_engine_answers_transfers_still_waiting_for_room()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        var engine = EngineHarness.Start(Strict, "--max-busy-transfers", "1");
        try
        {
            var running = engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/delay/60000") }, Sync(), CancellationToken.None);
            await WaitFor(() => engine.Metric("hoody_curl_transfers_active") == 1, "one transfer running");
            var waiting = engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/bytes/10") }, Sync(), CancellationToken.None);
            await WaitFor(() => engine.Metric("hoody_curl_transfers_waiting") == 1, "one transfer waiting");
            var stopped = engine.DisposeAsync().AsTask();
            // Without the stop answering the queue, the waiting transfer would never end.
            var settled = Task.WhenAll(new[] { running, waiting }.Select(t => t.ContinueWith(static _ => { }, TaskScheduler.Default)));
            await Assert.That(await Task.WhenAny(settled, Task.Delay(TimeSpan.FromSeconds(20)))).IsSameReferenceAs(settled);
            foreach (var t in new[] { running, waiting })
            {
                var error = await Assert.That(async () => await t).Throws<ApiErrorException>();
                await Assert.That(error!.Error.Code).IsEqualTo("CANCELLED");
            }
            await stopped;
        }
        finally
        {
            await engine.DisposeAsync();
        }
    }
}
