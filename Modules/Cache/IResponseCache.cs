// The cache's one interface, called by the engine where a transfer starts (LookupAsync, CollapseAsync) and
// where its head arrives (BeginStore / Refresh), plus Invalidate after an unsafe method. Neutral types only.
namespace HoodyCurl.Cache;

/// <summary>A request as the cache sees it. <see cref="CallerState"/> is the engine's reason label when the
/// request carries per-caller credentials or state the key does not vary on (cookie, bearer_token, …).</summary>
public sealed record CacheRequest(string Method, string Url, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public string? CallerState { get; init; }
}

public enum CacheOutcome
{
    /// <summary>Not eligible (reason in <see cref="CacheLookup.Reason"/>): go upstream, store nothing.</summary>
    Bypass,
    /// <summary>A fresh entry: serve it.</summary>
    Hit,
    /// <summary>A stale entry the request accepts (max-stale): serve it.</summary>
    Stale,
    /// <summary>A stale entry with validators: send <see cref="CacheLookup.ConditionalHeaders"/> upstream.</summary>
    Revalidate,
    /// <summary>Nothing usable: go upstream and offer the response to <see cref="IResponseCache.BeginStore"/>.</summary>
    Miss,
    /// <summary>only-if-cached and nothing usable: answer 504.</summary>
    Unsatisfiable,
}

public sealed class CacheLookup
{
    public required CacheOutcome Outcome { get; init; }
    public string? Reason { get; init; }
    public CachedResponse? Entry { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> ConditionalHeaders { get; init; } = [];
    /// <summary>False when the request forbids storing (no-store) or the mode is readonly.</summary>
    public bool MayStore { get; init; }
}

/// <summary>A stored response ready to serve: head, age, and the body opened from its content file.</summary>
public sealed class CachedResponse
{
    public required int StatusCode { get; init; }
    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }
    public required long Size { get; init; }
    public required long AgeSeconds { get; init; }
    public string? PinIp { get; init; }
    internal string Key { get; init; } = "";
    internal string Integrity { get; init; } = "";
    internal Store.IndexEntry? Source { get; init; }
    /// <summary>Opens the body (null when it turned out missing or corrupt: the entry is gone). Integrity: small bodies before the first byte, large ones
    /// while streaming (a mismatch then fails the read with IOException and the entry is removed).</summary>
    public required Func<Stream?> OpenBody { get; init; }
}

/// <summary>The body of a response being stored, written while it streams to the caller.</summary>
public interface ICacheWriter : IAsyncDisposable
{
    /// <summary>False once the writer gave up (over a cap, disk error): further writes are ignored.</summary>
    bool Active { get; }
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);
    /// <summary>Makes the entry visible (fsync, rename, index line). <paramref name="pinIp"/> is the address libcurl connected to;
    /// when it is not in <paramref name="currentAddresses"/> (the key host's resolve-and-pin set now: a redirect to another
    /// host, DNS that moved during the transfer) the entry could never be served (docs/api.md, Cache), so it is not stored
    /// (skip_response reason pin_mismatch) and false is returned.</summary>
    ValueTask<bool> CommitAsync(string? pinIp, Func<CancellationToken, ValueTask<IReadOnlyList<string>>> currentAddresses, CancellationToken cancellationToken);
}

public interface IResponseCache
{
    bool Enabled { get; }
    /// <summary>Counts a request that did not consult the cache (method_not_cacheable, …).</summary>
    void CountBypass(string reason);
    ValueTask<CacheLookup> LookupAsync(CacheRequest request, Func<CancellationToken, ValueTask<IReadOnlyList<string>>> currentAddresses, CancellationToken cancellationToken);
    /// <summary>Request collapsing: the first caller for a key leads (dispose its ticket once its store is done or
    /// abandoned); the others wait for the leader's ticket and get a follower ticket: look up again.</summary>
    ValueTask<CollapseTicket> CollapseAsync(CacheRequest request, CancellationToken cancellationToken);
    /// <summary>Decides at head arrival whether to store; null (reason counted) when not.</summary>
    ICacheWriter? BeginStore(CacheRequest request, int status, IReadOnlyList<KeyValuePair<string, string>> headers, bool bodyDecoded, DateTimeOffset requestTime);
    /// <summary>A 304 answered a revalidation: merges its headers into the entry and returns it refreshed.</summary>
    CachedResponse? Refresh(CacheRequest request, CachedResponse stale, IReadOnlyList<KeyValuePair<string, string>> headers304, DateTimeOffset requestTime);
    /// <summary>After an unsafe method succeeded on <paramref name="url"/>: its entries go.</summary>
    void Invalidate(string url);
}

public sealed class CollapseTicket(bool leader, Action? release) : IDisposable
{
    private Action? _release = release;

    public bool Leader { get; } = leader;

    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
