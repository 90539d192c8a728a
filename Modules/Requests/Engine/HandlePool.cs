// Warm easy handles per origin, owned by one TransferLoop (so touched only on its thread). A handle
// whose transfer set any option beyond those every request sets again (auth, cookies, a range, a body,
// a proxy, a pause...) is reset (curl_easy_reset) when it comes back, so no request-level state survives
// into the next user; one that ran a plain GET keeps its options, and the next request sets only the
// per-request ones (TransferSetup). Connections themselves live in the loop's multi handle and
// the shared DNS/TLS cache; the pool saves handle set-up and keeps the per-origin/global caps of
// docs/design.md (Handles and connections) with approximate LRU eviction. The caps apply to handles idle for longer than
// IdleGraceMs: under load more handles than the cap come back and are taken again within microseconds,
// and evicting them at once made 64% of takes at 32 concurrent callers miss (a fresh handle, its buffers
// allocated and freed again: issue 13). Trim, run by the loop at least once a second, enforces the caps.
using HoodyCurl.Requests.Native;

namespace HoodyCurl.Requests.Engine;

internal sealed class HandlePool(int perOrigin, int globalCap, EngineMetrics metrics, PoolBudget budget, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long NowMs => _time.GetTimestamp() * 1000 / _time.TimestampFrequency;
    private readonly Dictionary<string, LinkedList<Idle>> _byOrigin = new(StringComparer.Ordinal);
    private readonly LinkedList<Idle> _lru = new(); // oldest first
    /// <summary>How long a handle beyond the caps may stay idle before Trim evicts it.</summary>
    internal const long IdleGraceMs = 2000;
    private long _nextTrim;

    /// <summary>
    /// An idle handle, with its places in its origin's list and in the LRU list. Entries are reused (a free stack, this
    /// loop's thread only): each Put allocated an entry and two list nodes, ~160 of ~6,000 bytes allocated per relayed
    /// request (issue 13). Holding its own nodes also makes an eviction O(1) instead of a search of the origin's list.
    /// </summary>
    private sealed class Idle
    {
        public Idle()
        {
            OriginNode = new LinkedListNode<Idle>(this);
            LruNode = new LinkedListNode<Idle>(this);
        }

        public string Key { get; set; } = "";
        public nint Easy { get; set; }
        public long Since { get; set; }
        public bool Warm { get; set; }
        public LinkedListNode<Idle> OriginNode { get; }
        public LinkedListNode<Idle> LruNode { get; }
    }

    private readonly Stack<Idle> _free = new();

    /// <summary>Most entries kept for reuse: after a burst the pool holds no more than this many spare entries.</summary>
    private const int MaxFree = 256;

    private void Recycle(Idle idle)
    {
        idle.Key = "";
        idle.Easy = 0;
        if (_free.Count < MaxFree) _free.Push(idle);
    }

    /// <summary>A handle for <paramref name="key"/>; <paramref name="warm"/> when it still has TransferSetup's per-handle options.</summary>
    public nint Take(string key, out bool warm)
    {
        warm = false;
        metrics.PoolTakes.Inc();
        if (_byOrigin.TryGetValue(key, out var list) && list.Last is { } node)
        {
            var idle = node.Value;
            list.RemoveLast();
            if (list.Count == 0) _byOrigin.Remove(key);
            _lru.Remove(idle.LruNode);
            budget.Release();
            metrics.PoolIdle.Dec();
            metrics.PoolHits.Inc();
            warm = idle.Warm;
            var easy = idle.Easy;
            Recycle(idle);
            return easy;
        }
        metrics.PoolMisses.Inc();
        return LibCurl.curl_easy_init();
    }

    /// <summary>
    /// Takes a handle back. <paramref name="dirty"/>: its transfer set an option the next one would not overwrite, and
    /// it is reset. Otherwise it keeps its options: curl_easy_reset and the ~12 per-handle options set again cost ~8k
    /// of ~190k instructions per relayed 1 KiB request (callgrind, issue 13). Either way it keeps no pointer into the
    /// finished transfer's memory (error buffer, header list).
    /// </summary>
    public void Put(string key, nint easy, bool dirty)
    {
        if (dirty)
        {
            LibCurl.curl_easy_reset(easy);
            // reset turns NOSIGNAL back off, and then every cleanup would install and restore a SIGPIPE
            // handler (two rt_sigaction calls); an idle handle keeps it on.
            LibCurl.SetLong(easy, Native.CurlOpt.NOSIGNAL, 1);
        }
        else
        {
            LibCurl.SetPtr(easy, Native.CurlOpt.ERRORBUFFER, 0);
            LibCurl.SetPtr(easy, Native.CurlOpt.HTTPHEADER, 0);
            LibCurl.SetPtr(easy, Native.CurlOpt.CURLU, 0);
        }
        metrics.PoolPuts.Inc();
        if (!_byOrigin.TryGetValue(key, out var list)) _byOrigin[key] = list = new LinkedList<Idle>();
        var idle = _free.Count > 0 ? _free.Pop() : new Idle();
        idle.Key = key;
        idle.Easy = easy;
        idle.Since = NowMs;
        idle.Warm = !dirty;
        list.AddLast(idle.OriginNode);
        _lru.AddLast(idle.LruNode);
        budget.Acquire();
        metrics.PoolIdle.Inc();
    }

    /// <summary>
    /// Evicts the handles beyond --pool-per-origin (per origin) and --pool-global (in all) that have been idle
    /// for longer than <see cref="IdleGraceMs"/>, oldest first. Cheap when nothing is over: runs its scan at
    /// most every 250 ms.
    /// </summary>
    public void Trim()
    {
        var now = NowMs;
        if (now < _nextTrim || _lru.Count == 0) return;
        _nextTrim = now + 250;
        var cutoff = now - IdleGraceMs;
        List<LinkedList<Idle>>? over = null;
        foreach (var list in _byOrigin.Values) if (list.Count > perOrigin) (over ??= []).Add(list);
        if (over is not null)
        {
            foreach (var list in over)
                while (list.Count > perOrigin && list.First is { } oldest && oldest.Value.Since <= cutoff) Evict(oldest.Value, "per_origin");
        }
        while (budget.Over(globalCap) && _lru.First is { } first && first.Value.Since <= cutoff) Evict(first.Value, "global");
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
        list.Remove(idle.OriginNode);
        if (list.Count == 0) _byOrigin.Remove(idle.Key);
        _lru.Remove(idle.LruNode);
        budget.Release();
        metrics.PoolIdle.Dec();
        metrics.PoolEvictions.WithLabels(reason).Inc();
        var easy = idle.Easy;
        Recycle(idle);
        LibCurl.curl_easy_cleanup(easy);
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
