// The process-wide --max-concurrent-sync cap shared by sync REST and the channel (ISyncLimiter): a non-waiting
// caller (REST) is refused at the cap, waiting callers (channel streams) get freed permits in arrival order and
// before a later non-waiting caller, a permit is released once however often it is disposed, a cancelled wait
// takes nothing, and hoody_curl_sync_in_flight counts the permits out.
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests.Endpoints;
using HoodyCurl.Requests.Engine;

namespace HoodyCurl.Requests.Tests.Endpoints;

public class SyncLimiterTests
{
    private static (SyncLimiter Limiter, EngineMetrics Metrics) New(int cap)
    {
        var metrics = new EngineMetrics(new MetricsRegistry());
        return (new SyncLimiter(new RequestsOptions { MaxConcurrentSync = cap }, metrics), metrics);
    }

    [Test]
    public async Task At_the_cap_a_non_waiting_caller_is_refused_and_the_gauge_counts_permits_out()
    {
        var (limiter, metrics) = New(2);
        await Assert.That(limiter.Limit).IsEqualTo(2);
        var a = limiter.TryEnter();
        var b = await limiter.EnterAsync(CancellationToken.None);
        await Assert.That(a).IsNotNull();
        await Assert.That(metrics.SyncInFlight.Value).IsEqualTo(2);
        await Assert.That(limiter.TryEnter()).IsNull();
        b.Dispose();
        b.Dispose(); // a second dispose must not free a second permit
        await Assert.That(metrics.SyncInFlight.Value).IsEqualTo(1);
        var c = limiter.TryEnter();
        await Assert.That(c).IsNotNull();
        await Assert.That(limiter.TryEnter()).IsNull();
        a!.Dispose();
        c!.Dispose();
        await Assert.That(metrics.SyncInFlight.Value).IsEqualTo(0);
    }

    [Test]
    public async Task Freed_permits_go_to_waiters_in_arrival_order_before_a_later_non_waiting_caller()
    {
        var (limiter, metrics) = New(1);
        var held = limiter.TryEnter()!;
        var first = limiter.EnterAsync(CancellationToken.None).AsTask();
        var second = limiter.EnterAsync(CancellationToken.None).AsTask();
        await Assert.That(first.IsCompleted || second.IsCompleted).IsFalse();
        held.Dispose();
        var one = await first.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.That(second.IsCompleted).IsFalse();
        await Assert.That(limiter.TryEnter()).IsNull(); // the waiter got it, not the newcomer
        one.Dispose();
        var two = await second.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.That(metrics.SyncInFlight.Value).IsEqualTo(1);
        two.Dispose();
        await Assert.That(metrics.SyncInFlight.Value).IsEqualTo(0);
    }

    [Test]
    public async Task A_cancelled_wait_takes_no_permit()
    {
        var (limiter, metrics) = New(1);
        var held = limiter.TryEnter()!;
        using var cts = new CancellationTokenSource();
        var waiting = limiter.EnterAsync(cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.That(async () => await waiting).Throws<OperationCanceledException>();
        held.Dispose();
        await Assert.That(metrics.SyncInFlight.Value).IsEqualTo(0);
        var again = limiter.TryEnter();
        await Assert.That(again).IsNotNull();
        again!.Dispose();
    }
}
