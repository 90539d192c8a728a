// The process-wide --max-buffered-bytes budget: reservations stop at the limit, leases give back all
// they took, the gauge follows, and concurrent reservers never pass the limit together.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Memory;
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Kernel.Tests.Memory;

public class BufferBudgetTests
{
    [Test]
    public async Task Reservations_stop_at_the_limit_and_come_back_on_release()
    {
        var metrics = new MetricsRegistry();
        var budget = new BufferBudget(100, metrics);
        await Assert.That(budget.TryReserve(60)).IsTrue();
        await Assert.That(budget.TryReserve(41)).IsFalse();
        await Assert.That(budget.TryReserve(40)).IsTrue();
        await Assert.That(budget.TryReserve(1)).IsFalse();
        await Assert.That(budget.Reserved).IsEqualTo(100);
        var text = metrics.Render();
        await Assert.That(text).Contains("hoody_curl_buffered_bytes 100");
        await Assert.That(text).Contains("hoody_curl_buffer_budget_rejections_total 2");
        await Assert.That(text).Contains("hoody_curl_buffered_bytes_limit 100");

        budget.Release(60);
        await Assert.That(budget.TryReserve(50)).IsTrue();
        budget.Release(90);
        await Assert.That(budget.Reserved).IsEqualTo(0);
        await Assert.That(metrics.Render()).Contains("hoody_curl_buffered_bytes 0");
    }

    [Test]
    public async Task Releasing_more_than_reserved_throws_and_changes_nothing()
    {
        var budget = new BufferBudget(100);
        budget.TryReserve(10);
        await Assert.That(() => budget.Release(11)).Throws<InvalidOperationException>();
        await Assert.That(budget.Reserved).IsEqualTo(10);
    }

    [Test]
    public async Task A_lease_grows_until_refused_keeps_what_it_had_and_gives_all_back()
    {
        var budget = new BufferBudget(64 * 3);
        var other = budget.OpenLease();
        other.Grow(64);
        using (var lease = budget.OpenLease())
        {
            await Assert.That(lease.TryGrow(64)).IsTrue();
            await Assert.That(lease.TryGrow(64)).IsTrue();
            await Assert.That(lease.TryGrow(64)).IsFalse();
            await Assert.That(lease.Held).IsEqualTo(128);
            var refused = Assert.Throws<ApiErrorException>(() => lease.Grow(1));
            await Assert.That(refused.Error.Status).IsEqualTo(503);
            await Assert.That(refused.Error.Code).IsEqualTo(ErrorCodes.QueueFull);
            await Assert.That(refused.Error.RetryAfterSeconds).IsEqualTo(BufferBudget.RetryAfterSeconds);
        }
        await Assert.That(budget.Reserved).IsEqualTo(64);
        other.Dispose();
        other.Dispose(); // a second dispose gives nothing back twice
        await Assert.That(budget.Reserved).IsEqualTo(0);
    }

    [Test]
    public async Task Concurrent_reservers_never_pass_the_limit_together()
    {
        var budget = new BufferBudget(1000);
        var granted = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
                if (budget.TryReserve(7)) Interlocked.Add(ref granted, 7);
        })));
        await Assert.That(budget.Reserved).IsEqualTo(granted);
        await Assert.That(granted).IsLessThanOrEqualTo(1000);
        await Assert.That(granted).IsGreaterThan(1000 - 7);
        budget.Release(granted);
        await Assert.That(budget.Reserved).IsEqualTo(0);
    }
}
