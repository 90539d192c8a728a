// The IResponseCache: policy (Policy/) over the store (Store/), with the metrics of docs/metrics.md.
// Primary key: "v1|<METHOD>|<url>" (the generation and schema live in each entry, so a bump turns every entry
// into a miss that is removed when read); secondary key: the request's values of the response's Vary headers.
using System.Collections.Concurrent;
using HoodyCurl.Cache.Policy;
using HoodyCurl.Cache.Store;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Cache;

internal sealed partial class ResponseCache : IResponseCache, IDisposable
{
    private static readonly HashSet<string> NotStoredHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "content-length", "age",
    };

    private readonly CacheOptions _options;
    private readonly CacheMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly CacheStore? _store;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _inFlight = new(StringComparer.Ordinal);

    public ResponseCache(CacheOptions options, CacheMetrics metrics, TimeProvider clock, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        metrics.Enabled.Set(options.Enabled ? 1 : 0);
        // The documented bypass reasons exist on /metrics from the start. cache_disabled stays 0: with the cache off no
        // lookup takes place, so there is nothing to bypass (docs/decisions.md).
        foreach (var reason in new[] { "cache_disabled", "pin_mismatch", "method_not_cacheable" }) metrics.Bypass.WithLabels(reason);
        if (!options.Enabled) return;
        Root = Path.Combine(options.CacheDir, "ns-" + CacheStore.Sha256Hex(options.Namespace!));
        _store = new CacheStore(Root, options.MaxBytes)
        {
            Corrupted = why =>
            {
                metrics.Corrupt.WithLabels(why).Inc();
                CorruptEntry(logger, why);
            },
            Evicted = n => metrics.Evicted.Inc(n),
        };
    }

    public string? Root { get; }
    public bool Enabled => _store is not null;
    public CacheOptions Options => _options;
    internal CacheStore? Store => _store;

    public void CountBypass(string reason) => _metrics.Bypass.WithLabels(reason).Inc();

    public void SampleGauges()
    {
        _metrics.Enabled.Set(Enabled ? 1 : 0);
        if (_store is null) return;
        _metrics.Bytes.Set(_store.TotalBytes);
        _metrics.Objects.Set(_store.ObjectCount);
    }

    /// <summary>The primary key; the URL is normalised (scheme/host case, default port, no fragment). Recent keys are
    /// remembered (a hit then parses no URL); the memo is bounded and simply emptied when full.</summary>
    private string Key(string method, string url)
    {
        var memo = method == "GET" ? _getKeys : null;
        if (memo is not null && memo.TryGetValue(url, out var known)) return known;
        var normalized = url;
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
            normalized = uri.GetComponents(UriComponents.HttpRequestUrl, UriFormat.UriEscaped);
        var key = $"v1|{method}|{normalized}";
        if (memo is not null)
        {
            if (memo.Count >= KeyMemoSize) memo.Clear();
            memo[url] = key;
        }
        return key;
    }

    private const int KeyMemoSize = 4096;
    private readonly ConcurrentDictionary<string, string> _getKeys = new(StringComparer.Ordinal);

    public async ValueTask<CacheLookup> LookupAsync(CacheRequest request, Func<CancellationToken, ValueTask<IReadOnlyList<string>>> currentAddresses,
        CancellationToken cancellationToken)
    {
        // Off: no lookup takes place, nothing is counted (the engine does not call the cache then; this is a safety net).
        if (_store is null) return new CacheLookup { Outcome = CacheOutcome.Bypass, Reason = "cache_disabled" };
        var requestCc = CacheControl.Parse(request.Headers);
        if (CachePolicy.RequestSkip(request, requestCc) is { } skip)
        {
            _metrics.SkipRequest.WithLabels(skip).Inc();
            return new CacheLookup { Outcome = CacheOutcome.Bypass, Reason = skip };
        }
        var mayStore = _options.Mode == CacheMode.ReadWrite;
        var key = Key(request.Method, request.Url);
        var entries = _store.Read(key);
        if (entries.Any(e => e.Generation != _options.Generation || e.Schema != IndexEntry.CurrentSchema))
        {
            // Another generation or schema: a miss, removed now (docs/api.md (Cache) "invalidated on next read").
            entries.RemoveAll(e => e.Generation != _options.Generation || e.Schema != IndexEntry.CurrentSchema);
            if (entries.Count == 0 && mayStore) _store.Remove(key);
        }
        var entry = entries.LastOrDefault(e => VaryMatches(e, request.Headers));
        if (entry is null) return Missed(requestCc, mayStore);

        if (entry.PinIp is { } pin)
        {
            var addresses = await currentAddresses(cancellationToken).ConfigureAwait(false);
            if (!addresses.Any(a => SameAddress(a, pin)))
            {
                _metrics.PinMismatch.Inc();
                CountBypass("pin_mismatch");
                return new CacheLookup { Outcome = CacheOutcome.Bypass, Reason = "pin_mismatch", MayStore = mayStore };
            }
        }

        var facts = entry.Facts;
        var headers = facts.HeaderList;
        var now = _clock.GetUtcNow();
        var requestTime = DateTimeOffset.FromUnixTimeMilliseconds(entry.RequestTime);
        var responseTime = DateTimeOffset.FromUnixTimeMilliseconds(entry.ResponseTime);
        var age = CachePolicy.CurrentAge(facts.Date, facts.AgeValue, requestTime, responseTime, now);
        var usability = CachePolicy.Evaluate(requestCc, facts.CacheControl, facts.Lifetime, age);
        if (usability is Usability.Fresh or Usability.StaleAllowed)
        {
            var cached = ToCached(key, entry, age, opened: true);
            if (cached is null) return Missed(requestCc, mayStore);
            _metrics.Hits.Inc();
            return new CacheLookup { Outcome = usability == Usability.Fresh ? CacheOutcome.Hit : CacheOutcome.Stale, Entry = cached, MayStore = mayStore };
        }
        var conditional = new List<KeyValuePair<string, string>>();
        if (CachePolicy.Header(headers, "etag") is { } etag) conditional.Add(new("If-None-Match", etag));
        if (CachePolicy.Header(headers, "last-modified") is { } lastModified) conditional.Add(new("If-Modified-Since", lastModified));
        if (conditional.Count == 0 || requestCc.OnlyIfCached) return Missed(requestCc, mayStore);
        return new CacheLookup
        {
            Outcome = CacheOutcome.Revalidate, Entry = ToCached(key, entry, age, opened: false), ConditionalHeaders = conditional, MayStore = mayStore,
        };
    }

    private CacheLookup Missed(CacheControl requestCc, bool mayStore)
    {
        _metrics.Misses.Inc();
        return new CacheLookup { Outcome = requestCc.OnlyIfCached ? CacheOutcome.Unsatisfiable : CacheOutcome.Miss, MayStore = mayStore };
    }

    private static bool SameAddress(string a, string b) =>
        System.Net.IPAddress.TryParse(a, out var x) && System.Net.IPAddress.TryParse(b, out var y)
            ? (x.IsIPv4MappedToIPv6 ? x.MapToIPv4() : x).Equals(y.IsIPv4MappedToIPv6 ? y.MapToIPv4() : y)
            : string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static bool VaryMatches(IndexEntry entry, IReadOnlyList<KeyValuePair<string, string>> requestHeaders)
    {
        if (entry.Vary.Count == 0) return true;
        var values = CachePolicy.VaryValues(entry.Vary.Keys.ToList(), requestHeaders);
        return entry.Vary.All(v => values.TryGetValue(v.Key, out var current) && current == v.Value);
    }

    /// <summary>The servable form of an entry; with <paramref name="opened"/> the body is opened (and verified) now.</summary>
    private CachedResponse? ToCached(string key, IndexEntry entry, TimeSpan age, bool opened)
    {
        Stream? body = null;
        if (opened)
        {
            body = _store!.OpenContent(entry);
            if (body is null) return null;
        }
        var store = _store!;
        return new CachedResponse
        {
            StatusCode = entry.Status, Headers = entry.Facts.ServedHeaders, Size = entry.Size, AgeSeconds = (long)age.TotalSeconds, PinIp = entry.PinIp,
            Key = key, Integrity = entry.Integrity ?? "", Source = entry,
            OpenBody = () => Interlocked.Exchange(ref body, null) ?? store.OpenContent(entry),
        };
    }

    public async ValueTask<CollapseTicket> CollapseAsync(CacheRequest request, CancellationToken cancellationToken)
    {
        var key = Key(request.Method, request.Url);
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        while (true)
        {
            if (_inFlight.TryAdd(key, mine))
            {
                return new CollapseTicket(true, () =>
                {
                    _inFlight.TryRemove(new KeyValuePair<string, TaskCompletionSource>(key, mine));
                    mine.TrySetResult();
                });
            }
            if (_inFlight.TryGetValue(key, out var leader))
            {
                await leader.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                return new CollapseTicket(false, null);
            }
        }
    }

    public ICacheWriter? BeginStore(CacheRequest request, int status, IReadOnlyList<KeyValuePair<string, string>> headers, bool bodyDecoded, DateTimeOffset requestTime)
    {
        if (_store is null || _options.Mode != CacheMode.ReadWrite) return null;
        if (CachePolicy.ResponseSkip(status, headers, bodyDecoded, _options.MaxObjectBytes) is { } skip)
        {
            _metrics.SkipResponse.WithLabels(skip).Inc();
            return null;
        }
        var varyNames = CachePolicy.VaryNames(string.Join(",", headers.Where(h => h.Key.Equals("vary", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value)))!;
        var stored = headers
            .Where(h => !NotStoredHeaders.Contains(h.Key) && !(bodyDecoded && h.Key.Equals("content-encoding", StringComparison.OrdinalIgnoreCase)))
            .Select(h => new[] { h.Key, h.Value }).ToList();
        var entry = new IndexEntry
        {
            Key = Key(request.Method, request.Url),
            Generation = _options.Generation,
            Status = status,
            Headers = stored,
            Vary = CachePolicy.VaryValues(varyNames, request.Headers),
            RequestTime = requestTime.ToUnixTimeMilliseconds(),
            ResponseTime = _clock.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        var limit = bodyDecoded ? _options.MaxObjectBytesDecoded : _options.MaxObjectBytes;
        return new Writer(this, _store.CreateWriter(), entry, limit, bodyDecoded ? "too_large_decoded" : "too_large");
    }

    public CachedResponse? Refresh(CacheRequest request, CachedResponse stale, IReadOnlyList<KeyValuePair<string, string>> headers304, DateTimeOffset requestTime)
    {
        if (_store is null || stale.Source is not { } source) return null;
        var now = _clock.GetUtcNow();
        var merged = CachePolicy.MergeHeaders(source.HeaderList, headers304).Where(h => !NotStoredHeaders.Contains(h.Key)).Select(h => new[] { h.Key, h.Value }).ToList();
        var refreshed = source with
        {
            Headers = merged, RequestTime = requestTime.ToUnixTimeMilliseconds(), ResponseTime = now.ToUnixTimeMilliseconds(),
            Time = now.ToUnixTimeMilliseconds(),
        };
        if (_options.Mode == CacheMode.ReadWrite) _store.Append(refreshed);
        var age = CachePolicy.CurrentAge(refreshed.HeaderList, requestTime, now, now);
        var cached = ToCached(stale.Key, refreshed, age, opened: true);
        if (cached is not null) _metrics.Hits.Inc();
        return cached;
    }

    public void Invalidate(string url)
    {
        if (_store is null || _options.Mode != CacheMode.ReadWrite) return;
        _store.Remove(Key("GET", url));
        _store.Remove(Key("HEAD", url));
    }

    /// <summary>DELETE /api/v1/curl/cache: everything, or one URL's entries. Returns the keys removed.</summary>
    public int Purge(string? url)
    {
        if (_store is null) return 0;
        if (url is null) return _store.Purge();
        return (_store.Remove(Key("GET", url)) ? 1 : 0) + (_store.Remove(Key("HEAD", url)) ? 1 : 0);
    }

    public void Dispose() => _store?.Dispose();

    private sealed class Writer(ResponseCache cache, ContentWriter content, IndexEntry entry, long limit, string tooLargeReason) : ICacheWriter
    {
        private bool _active = true;

        public bool Active => _active;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            if (!_active) return;
            if (content.Length + data.Length > limit)
            {
                Abandon(tooLargeReason);
                return;
            }
            try
            {
                await content.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                StoreFailed(cache._logger, e.Message);
                Abandon("write_failed");
            }
        }

        private void Abandon(string reason)
        {
            _active = false;
            cache._metrics.SkipResponse.WithLabels(reason).Inc();
            content.Dispose();
        }

        public async ValueTask<bool> CommitAsync(string? pinIp, Func<CancellationToken, ValueTask<IReadOnlyList<string>>> currentAddresses,
            CancellationToken cancellationToken)
        {
            if (!_active) return false;
            if (pinIp is not null)
            {
                // The response-side DNS-rebind check (docs/api.md, Cache: "pin mismatch at store"): an entry is served only while its
                // address is in the host's current set, so one fetched from elsewhere is not stored at all.
                var addresses = await currentAddresses(cancellationToken).ConfigureAwait(false);
                if (!addresses.Any(a => SameAddress(a, pinIp)))
                {
                    Abandon("pin_mismatch");
                    return false;
                }
            }
            _active = false;
            try
            {
                cache._store!.Commit(content, entry with { PinIp = pinIp, Time = cache._clock.GetUtcNow().ToUnixTimeMilliseconds() });
                return true;
            }
            catch (IOException e)
            {
                StoreFailed(cache._logger, e.Message);
                content.Dispose();
                return false;
            }
        }

        public ValueTask DisposeAsync()
        {
            _active = false;
            content.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "cache entry failed its integrity check ({Why}); removed")]
    private static partial void CorruptEntry(ILogger logger, string why);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "cache store write failed: {Message}")]
    private static partial void StoreFailed(ILogger logger, string message);
}
