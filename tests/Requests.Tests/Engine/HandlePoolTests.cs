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
        var first = pool.Take("http://a:80", out _);
        await Assert.That(first).IsNotEqualTo(0);
        pool.Put("http://a:80", first, dirty: true);
        var other = pool.Take("http://b:80", out _); // another origin never gets a's idle handle
        await Assert.That(other).IsNotEqualTo(first);
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(1);
        var again = pool.Take("http://a:80", out _);
        await Assert.That(again).IsEqualTo(first);
        await Assert.That(metrics.PoolHits.Value).IsEqualTo(1);
        await Assert.That(metrics.PoolMisses.Value).IsEqualTo(2);
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(0);
        pool.Put("http://a:80", again, dirty: true);
        pool.Put("http://b:80", other, dirty: true);
        pool.Clear();
        await Assert.That(registry.Render()).Contains("hoody_curl_pool_evictions_total{reason=\"shutdown\"} 2\n");
    }

    [Test]
    public async Task The_per_origin_cap_evicts_the_origins_oldest_handle_once_the_grace_is_over()
    {
        var clock = new FakeTimeProvider();
        var (pool, metrics, _) = NewPool(2, 64, clock: clock);
        var handles = new[] { pool.Take("o", out _), pool.Take("o", out _), pool.Take("o", out _) };
        foreach (var h in handles) pool.Put("o", h, dirty: true);
        pool.Trim(); // within the grace period: all three stay
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(3);
        await Assert.That(metrics.PoolEvictions.WithLabels("per_origin").Value).IsEqualTo(0);
        clock.Advance(PastGrace);
        pool.Trim();
        await Assert.That(metrics.PoolEvictions.WithLabels("per_origin").Value).IsEqualTo(1);
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(2);
        // The two newest stay, most recent first.
        await Assert.That(pool.Take("o", out _)).IsEqualTo(handles[2]);
        await Assert.That(pool.Take("o", out _)).IsEqualTo(handles[1]);
        var fresh = pool.Take("o", out _); // the evicted one was cleaned up: this take misses (malloc may reuse its address)
        await Assert.That(metrics.PoolMisses.Value).IsEqualTo(4);
        pool.Put("o", fresh, dirty: true);
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
            var taken = Enumerable.Range(0, 16).Select(_ => pool.Take("o", out bool _)).ToArray();
            foreach (var h in taken) pool.Put("o", h, dirty: true);
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
        var a = left.Take("a", out _);
        var b = left.Take("b", out _);
        var c = right.Take("c", out _);
        var d = right.Take("d", out _);
        left.Put("a", a, dirty: true);   // oldest
        left.Put("b", b, dirty: true);
        right.Put("c", c, dirty: true);  // 3 idle in all: at the cap
        clock.Advance(TimeSpan.FromMilliseconds(10));
        right.Put("d", d, dirty: true);  // 4 > 3
        clock.Advance(PastGrace);
        right.Trim();       // the right pool evicts its own least recently used (c): 3 idle again
        left.Trim();        // nothing over the cap any more
        await Assert.That(leftMetrics.PoolEvictions.WithLabels("global").Value).IsEqualTo(0);
        await Assert.That(rightMetrics.PoolEvictions.WithLabels("global").Value).IsEqualTo(1);
        await Assert.That(right.Take("d", out _)).IsEqualTo(d);
        var misses = rightMetrics.PoolMisses.Value;
        var notC = right.Take("c", out _); // c was evicted: a miss
        await Assert.That(rightMetrics.PoolMisses.Value).IsEqualTo(misses + 1);
        await Assert.That(left.Take("a", out _)).IsEqualTo(a);
        await Assert.That(left.Take("b", out _)).IsEqualTo(b);
        foreach (var (pool, key, h) in new[] { (left, "a", a), (left, "b", b), (right, "c", notC), (right, "d", d) }) pool.Put(key, h, dirty: true);
        left.Clear();
        right.Clear();
    }

    [Test]
    public async Task A_bypassed_handle_is_counted_and_never_pooled()
    {
        var (pool, metrics, _) = NewPool(8, 64);
        var h = pool.Take("o", out _);
        pool.Bypass(h, "session");
        await Assert.That(metrics.PoolBypasses.WithLabels("session").Value).IsEqualTo(1);
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(0);
        var next = pool.Take("o", out _);
        await Assert.That(metrics.PoolHits.Value).IsEqualTo(0);
        pool.Put("o", next, dirty: true);
        pool.Clear();
    }

    [Test]
    public async Task A_handle_put_back_clean_stays_warm_and_one_put_back_dirty_is_reset()
    {
        var (pool, _, _) = NewPool(8, 64);
        var handle = pool.Take("http://a:80", out var warm);
        await Assert.That(warm).IsFalse(); // a new handle: TransferSetup sets its per-handle options
        pool.Put("http://a:80", handle, dirty: false);
        await Assert.That(pool.Take("http://a:80", out warm)).IsEqualTo(handle);
        await Assert.That(warm).IsTrue();
        pool.Put("http://a:80", handle, dirty: true);
        await Assert.That(pool.Take("http://a:80", out warm)).IsEqualTo(handle);
        await Assert.That(warm).IsFalse(); // reset: its per-handle options must be set again
        pool.Put("http://a:80", handle, dirty: true);
        pool.Clear();
    }

    [Test]
    public async Task Random_takes_puts_and_trims_match_a_model_of_per_origin_stacks_and_the_lru_order()
    {
        // The pool reuses its idle entries (and their list nodes): a reused entry left in a list, or a list node moved
        // to the wrong list, shows as a take that returns another origin's handle, a handle twice, or a wrong eviction.
        var clock = new FakeTimeProvider();
        var (pool, metrics, _) = NewPool(perOrigin: 3, global: 5, clock: clock);
        var random = new Random(1313);
        string[] origins = ["http://a:80", "http://b:80", "http://c:80"];
        var idle = origins.ToDictionary(o => o, _ => new List<(nint Easy, long Since)>()); // per origin, oldest first
        var lru = new List<(string Origin, nint Easy, long Since)>(); // oldest first
        var busy = new List<(string Origin, nint Easy)>();
        long now = 0;
        for (var step = 0; step < 3000; step++)
        {
            var op = random.Next(10);
            if (op < 4)
            {
                var origin = origins[random.Next(origins.Length)];
                var easy = pool.Take(origin, out _);
                var stack = idle[origin];
                if (stack.Count > 0)
                {
                    var expected = stack[^1].Easy;
                    await Assert.That(easy).IsEqualTo(expected).Because($"step {step}: the newest idle handle of {origin}");
                    stack.RemoveAt(stack.Count - 1);
                    lru.RemoveAll(x => x.Easy == expected);
                }
                else
                {
                    await Assert.That(busy.Any(b => b.Easy == easy)).IsFalse().Because($"step {step}: a fresh handle is not one in use");
                }
                busy.Add((origin, easy));
            }
            else if (op < 8 && busy.Count > 0)
            {
                var i = random.Next(busy.Count);
                var (origin, easy) = busy[i];
                busy.RemoveAt(i);
                pool.Put(origin, easy, dirty: random.Next(2) == 0);
                idle[origin].Add((easy, now));
                lru.Add((origin, easy, now));
            }
            else if (op == 8)
            {
                clock.Advance(TimeSpan.FromMilliseconds(700));
                now += 700;
            }
            else
            {
                clock.Advance(TimeSpan.FromMilliseconds(251)); // past the trim's own 250 ms spacing
                now += 251;
                pool.Trim();
                var cutoff = now - HandlePool.IdleGraceMs;
                foreach (var origin in origins)
                    while (idle[origin].Count > 3 && idle[origin][0].Since <= cutoff)
                    {
                        var evicted = idle[origin][0].Easy;
                        idle[origin].RemoveAt(0);
                        lru.RemoveAll(x => x.Easy == evicted);
                    }
                while (lru.Count > 5 && lru[0].Since <= cutoff)
                {
                    var (origin, evicted, _) = lru[0];
                    lru.RemoveAt(0);
                    idle[origin].RemoveAll(x => x.Easy == evicted);
                }
            }
            await Assert.That(metrics.PoolIdle.Value).IsEqualTo(lru.Count).Because($"step {step}");
        }
        foreach (var (origin, easy) in busy) pool.Put(origin, easy, dirty: true);
        pool.Clear();
        await Assert.That(metrics.PoolIdle.Value).IsEqualTo(0);
    }
}
