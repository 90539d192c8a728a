// Cache-Control directives of a request or response, parsed with System.Net.Http.Headers.CacheControlHeaderValue
// (AOT-clean; PITFALLS.md). Several Cache-Control lines are joined with commas first (RFC 9110 §5.3).
using System.Net.Http.Headers;

namespace HoodyCurl.Cache.Policy;

internal sealed record CacheControl
{
    public bool NoStore { get; init; }
    public bool NoCache { get; init; }
    public bool MustRevalidate { get; init; }
    public bool Private { get; init; }
    public bool OnlyIfCached { get; init; }
    public TimeSpan? MaxAge { get; init; }
    public bool MaxStale { get; init; }
    public TimeSpan? MaxStaleLimit { get; init; }
    public TimeSpan? MinFresh { get; init; }
    /// <summary>Present but unparseable: treated as no-store (never guess with someone else's data).</summary>
    public bool Invalid { get; init; }

    public static readonly CacheControl None = new();

    public static CacheControl Parse(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        string? joined = null;
        var pragmaNoCache = false;
        foreach (var (name, value) in headers)
        {
            if (name.Equals("cache-control", StringComparison.OrdinalIgnoreCase)) joined = joined is null ? value : joined + ", " + value;
            else if (name.Equals("pragma", StringComparison.OrdinalIgnoreCase) && value.Contains("no-cache", StringComparison.OrdinalIgnoreCase)) pragmaNoCache = true;
        }
        if (joined is null) return pragmaNoCache ? new CacheControl { NoCache = true } : None;
        if (string.IsNullOrWhiteSpace(joined)) return None;
        if (!CacheControlHeaderValue.TryParse(joined, out var cc) || cc is null) return new CacheControl { Invalid = true, NoStore = true };
        return new CacheControl
        {
            NoStore = cc.NoStore,
            NoCache = cc.NoCache,
            MustRevalidate = cc.MustRevalidate || cc.ProxyRevalidate,
            Private = cc.Private,
            OnlyIfCached = cc.OnlyIfCached,
            MaxAge = cc.MaxAge,
            MaxStale = cc.MaxStale,
            MaxStaleLimit = cc.MaxStaleLimit,
            MinFresh = cc.MinFresh,
        };
    }
}
