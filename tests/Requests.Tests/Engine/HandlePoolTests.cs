// The handle pool over real libcurl easy handles: a handle put back is the one taken next for its origin
// (a hit), the per-origin cap evicts that origin's oldest, the global cap (shared by every loop's pool)
// evicts the least recently used across origins, and every event is counted under the contract's names.
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests.Engine;

namespace HoodyCurl.Requests.Tests.Engine;

public class HandlePoolTests
{
    private static (HandlePool Pool, EngineMetrics Metrics, MetricsRegistry Registry) NewPool(int perOrigin, int global, PoolBudget? budget = null)
    {
        CurlRuntime.EnsureInitialized();
        var registry = new MetricsRegistry();
        var metrics = new EngineMetrics(registry);
        return (new HandlePool(perOrigin, global, metrics, budget ?? new PoolBudget()), metrics, registry);
    }

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
    public async Task The_per_origin_cap_evicts_the_origins_oldest_handle()
    {
        var (pool, metrics, _) = NewPool(2, 64);
        var handles = new[] { pool.Take("o"), pool.Take("o"), pool.Take("o") };
        foreach (var h in handles) pool.Put("o", h);
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
    public async Task The_global_cap_is_shared_by_pools_and_evicts_the_least_recently_used()
    {
        var budget = new PoolBudget();
        var (left, leftMetrics, _) = NewPool(8, 3, budget);
        var (right, rightMetrics, _) = NewPool(8, 3, budget);
        var a = left.Take("a");
        var b = left.Take("b");
        var c = right.Take("c");
        var d = right.Take("d");
        left.Put("a", a);   // oldest
        left.Put("b", b);
        right.Put("c", c);  // 3 idle in all: at the cap
        await Assert.That(leftMetrics.PoolEvictions.WithLabels("global").Value + rightMetrics.PoolEvictions.WithLabels("global").Value).IsEqualTo(0);
        right.Put("d", d);  // 4 > 3: the right pool evicts its own least recently used (c)
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
