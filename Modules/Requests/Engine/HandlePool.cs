// Warm easy handles per origin, owned by one TransferLoop (so touched only on its thread). Handles
// are reset (curl_easy_reset) when they come back, so no request-level state (auth, cookies,
// headers) survives into the next user. Connections themselves live in the loop's multi handle and
// the shared DNS/TLS cache; the pool saves handle set-up and keeps the per-origin/global caps of
// contract ops.md §4 with approximate LRU eviction.
using HoodyCurl.Requests.Native;

namespace HoodyCurl.Requests.Engine;

internal sealed class HandlePool(int perOrigin, int globalCap, EngineMetrics metrics, PoolBudget budget)
{
    private readonly Dictionary<string, LinkedList<Idle>> _byOrigin = new(StringComparer.Ordinal);
    private readonly LinkedList<Idle> _lru = new(); // oldest first
    private sealed class Idle(string key, nint easy)
    {
        public string Key { get; } = key;
        public nint Easy { get; } = easy;
        public LinkedListNode<Idle>? LruNode { get; set; }
    }

    public nint Take(string key)
    {
        metrics.PoolTakes.Inc();
        if (_byOrigin.TryGetValue(key, out var list) && list.Last is { } node)
        {
            list.RemoveLast();
            if (list.Count == 0) _byOrigin.Remove(key);
            _lru.Remove(node.Value.LruNode!);
            budget.Release();
            metrics.PoolIdle.Dec();
            metrics.PoolHits.Inc();
            return node.Value.Easy;
        }
        metrics.PoolMisses.Inc();
        return LibCurl.curl_easy_init();
    }

    public void Put(string key, nint easy)
    {
        LibCurl.curl_easy_reset(easy);
        // reset turns NOSIGNAL back off, and then every cleanup would install and restore a SIGPIPE
        // handler (two rt_sigaction calls); an idle handle keeps it on.
        LibCurl.SetLong(easy, Native.CurlOpt.NOSIGNAL, 1);
        metrics.PoolPuts.Inc();
        if (!_byOrigin.TryGetValue(key, out var list)) _byOrigin[key] = list = new LinkedList<Idle>();
        var idle = new Idle(key, easy);
        list.AddLast(idle);
        idle.LruNode = _lru.AddLast(idle);
        budget.Acquire();
        metrics.PoolIdle.Inc();
        if (list.Count > perOrigin) Evict(list.First!.Value, "per_origin");
        while (budget.Over(globalCap) && _lru.First is { } oldest) Evict(oldest.Value, "global");
    }

    /// <summary>A transfer whose handle must not be pooled (cancelled, insecure, promoted).</summary>
    public void Bypass(nint easy, string reason)
    {
        metrics.PoolBypasses.WithLabels(reason).Inc();
        LibCurl.curl_easy_cleanup(easy);
    }

    public void Clear()
    {
        while (_lru.First is { } oldest) Evict(oldest.Value, "shutdown");
    }

    private void Evict(Idle idle, string reason)
    {
        var list = _byOrigin[idle.Key];
        list.Remove(idle);
        if (list.Count == 0) _byOrigin.Remove(idle.Key);
        _lru.Remove(idle.LruNode!);
        budget.Release();
        metrics.PoolIdle.Dec();
        metrics.PoolEvictions.WithLabels(reason).Inc();
        LibCurl.curl_easy_cleanup(idle.Easy);
    }
}

/// <summary>The global idle count shared by every loop's pool (the global cap is process-wide).</summary>
internal sealed class PoolBudget
{
    private int _idle;
    public void Acquire() => Interlocked.Increment(ref _idle);
    public void Release() => Interlocked.Decrement(ref _idle);
    public bool Over(int cap) => Volatile.Read(ref _idle) > cap;
}
