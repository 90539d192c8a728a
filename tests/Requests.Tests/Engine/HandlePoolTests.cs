// The handle pool over real libcurl easy handles: a handle put back is the one taken next for its origin
// (a hit); handles beyond the caps are kept through a short grace period (so a burst reuses them) and then
// the per-origin cap evicts that origin's oldest and the global cap (shared by every loop's pool) the least
// recently used across origins; every event is counted under the contract's names. The clock is a fake.
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests.Engine;
using Microsoft.Extensions.Time.Testing;

namespace HoodyCurl.Requests.Tests.Engine;

public class HandlePoolTests
{
    private static (HandlePool Pool, EngineMetrics Metrics, MetricsRegistry Registry) NewPool(int perOrigin, int global, PoolBudget? budget = null, FakeTimeProvider? clock = null)
    {
        CurlRuntime.EnsureInitialized();
        var registry = new MetricsRegistry();
        var metrics = new EngineMetrics(registry);
        return (new HandlePool(perOrigin, global, metrics, budget ?? new PoolBudget(), clock ?? new FakeTimeProvider()), metrics, registry);
    }

    private static readonly TimeSpan PastGrace = TimeSpan.FromMilliseconds(HandlePool.IdleGraceMs + 1);

    [Test]
    public async Task A_returned_handle_is_reused_for_its_origin_only()
    {
        var (pool, metrics, registry) = NewPool(8, 64);
        var first = pool.Take("http://a:80");
        await Assert.That(first).IsNotEqualTo(0);
        pool.Put("http://a:80", first);
        var other = pool.Take("http://b:80"); // another origin never gets a's idle handle
        await Assert.That(other).IsNotEqualTo(first);
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(1);
        var again = pool.Take("http://a:80");
        await Assert.That(again).IsEqualTo(first);
        await Assert.That(metrics.PoolHits.Value).IsEqualTo(1);
        await Assert.That(metrics.PoolMisses.Value).IsEqualTo(2);
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(0);
        pool.Put("http://a:80", again);
        pool.Put("http://b:80", other);
        pool.Clear();
        await Assert.That(registry.Render()).Contains("hoody_curl_pool_evictions_total{reason=\"shutdown\"} 2\n");
    }

    [Test]
    public async Task The_per_origin_cap_evicts_the_origins_oldest_handle_once_the_grace_is_over()
    {
        var clock = new FakeTimeProvider();
        var (pool, metrics, _) = NewPool(2, 64, clock: clock);
        var handles = new[] { pool.Take("o"), pool.Take("o"), pool.Take("o") };
        foreach (var h in handles) pool.Put("o", h);
        pool.Trim(); // within the grace period: all three stay
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(3);
        await Assert.That(metrics.PoolEvictions.WithLabels("per_origin").Value).IsEqualTo(0);
        clock.Advance(PastGrace);
        pool.Trim();
        await Assert.That(metrics.PoolEvictions.WithLabels("per_origin").Value).IsEqualTo(1);
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(2);
        // The two newest stay, most recent first.
        await Assert.That(pool.Take("o")).IsEqualTo(handles[2]);
        await Assert.That(pool.Take("o")).IsEqualTo(handles[1]);
        var fresh = pool.Take("o"); // the evicted one was cleaned up: this take misses (malloc may reuse its address)
        await Assert.That(metrics.PoolMisses.Value).IsEqualTo(4);
        pool.Put("o", fresh);
        pool.Clear();
    }

    [Test]
    public async Task A_burst_beyond_the_cap_reuses_its_handles_instead_of_creating_new_ones()
    {
        var clock = new FakeTimeProvider();
        var (pool, metrics, _) = NewPool(2, 64, clock: clock);
        // 16 concurrent callers on one origin, three rounds: only the first round creates handles.
        for (var round = 0; round < 3; round++)
        {
            var taken = Enumerable.Range(0, 16).Select(_ => pool.Take("o")).ToArray();
            foreach (var h in taken) pool.Put("o", h);
            clock.Advance(TimeSpan.FromMilliseconds(300));
            pool.Trim();
        }
        await Assert.That(metrics.PoolMisses.Value).IsEqualTo(16);
        await Assert.That(metrics.PoolHits.Value).IsEqualTo(32);
        await Assert.That(metrics.PoolEvictions.WithLabels("per_origin").Value).IsEqualTo(0);
        // When the burst is over, the pool shrinks back to the cap.
        clock.Advance(PastGrace);
        pool.Trim();
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(2);
        await Assert.That(metrics.PoolEvictions.WithLabels("per_origin").Value).IsEqualTo(14);
        pool.Clear();
    }

    [Test]
    public async Task The_global_cap_is_shared_by_pools_and_evicts_the_least_recently_used()
    {
        var clock = new FakeTimeProvider();
        var budget = new PoolBudget();
        var (left, leftMetrics, _) = NewPool(8, 3, budget, clock);
        var (right, rightMetrics, _) = NewPool(8, 3, budget, clock);
        var a = left.Take("a");
        var b = left.Take("b");
        var c = right.Take("c");
        var d = right.Take("d");
        left.Put("a", a);   // oldest
        left.Put("b", b);
        right.Put("c", c);  // 3 idle in all: at the cap
        clock.Advance(TimeSpan.FromMilliseconds(10));
        right.Put("d", d);  // 4 > 3
        clock.Advance(PastGrace);
        right.Trim();       // the right pool evicts its own least recently used (c): 3 idle again
        left.Trim();        // nothing over the cap any more
        await Assert.That(leftMetrics.PoolEvictions.WithLabels("global").Value).IsEqualTo(0);
        await Assert.That(rightMetrics.PoolEvictions.WithLabels("global").Value).IsEqualTo(1);
        await Assert.That(right.Take("d")).IsEqualTo(d);
        var misses = rightMetrics.PoolMisses.Value;
        var notC = right.Take("c"); // c was evicted: a miss
        await Assert.That(rightMetrics.PoolMisses.Value).IsEqualTo(misses + 1);
        await Assert.That(left.Take("a")).IsEqualTo(a);
        await Assert.That(left.Take("b")).IsEqualTo(b);
        foreach (var (pool, key, h) in new[] { (left, "a", a), (left, "b", b), (right, "c", notC), (right, "d", d) }) pool.Put(key, h);
        left.Clear();
        right.Clear();
    }

    [Test]
    public async Task A_bypassed_handle_is_counted_and_never_pooled()
    {
        var (pool, metrics, _) = NewPool(8, 64);
        var h = pool.Take("o");
        pool.Bypass(h, "session");
        await Assert.That(metrics.PoolBypasses.WithLabels("session").Value).IsEqualTo(1);
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(0);
        var next = pool.Take("o");
        await Assert.That(metrics.PoolHits.Value).IsEqualTo(0);
        pool.Put("o", next);
        pool.Clear();
    }
}
