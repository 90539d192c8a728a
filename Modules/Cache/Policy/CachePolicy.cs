// RFC 9111 for a private cache, as pure functions: which requests may use the cache, which responses may be
// stored, how fresh a stored response is, and what a request's directives allow. Reason labels are those of
// docs/metrics.md (hoody_curl_cache_skip_request_total / _skip_response_total).
namespace HoodyCurl.Cache.Policy;

internal enum Usability { Fresh, StaleAllowed, MustRevalidate }

internal static class CachePolicy
{
    /// <summary>Statuses cacheable by default (RFC 9110 §15.1): heuristic freshness applies to them.</summary>
    private static readonly HashSet<int> HeuristicStatuses = [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501];
    /// <summary>Statuses this cache understands and may store with explicit freshness (206 never: no ranges here).</summary>
    private static readonly HashSet<int> StorableStatuses = [200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501];

    /// <summary>Request headers that carry per-caller state or make the upstream answer conditionally.</summary>
    private static readonly HashSet<string> UnsafeRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "proxy-authorization", "x-api-key", "x-auth-token", "x-csrf-token", "x-xsrf-token",
        "if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range",
    };

    public static bool IsCacheableMethod(string method) => method is "GET" or "HEAD";

    public static bool IsUnsafeMethod(string method) => method is not ("GET" or "HEAD" or "OPTIONS" or "TRACE");

    /// <summary>The reason a request may not use the cache, or null.</summary>
    public static string? RequestSkip(CacheRequest request, CacheControl cc)
    {
        if (!IsCacheableMethod(request.Method)) return "method_not_cacheable";
        if (request.CallerState is { } state) return state;
        if (request.Url.Contains('@') && Uri.TryCreate(request.Url, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0) return "url_userinfo";
        foreach (var (name, _) in request.Headers)
        {
            if (name.Equals("authorization", StringComparison.OrdinalIgnoreCase)) return "authorization_header";
            if (name.Equals("cookie", StringComparison.OrdinalIgnoreCase)) return "cookie";
            if (name.Equals("range", StringComparison.OrdinalIgnoreCase)) return "range";
            if (UnsafeRequestHeaders.Contains(name)) return "unsafe_request_header";
        }
        if (cc.NoStore) return "no_store";
        return null;
    }

    /// <summary>The reason a response may not be stored, or null. <paramref name="bodyDecoded"/>: libcurl
    /// decoded a Content-Encoding, so the stored body is the decoded one (docs/api.md (Cache)).</summary>
    public static string? ResponseSkip(int status, IReadOnlyList<KeyValuePair<string, string>> headers, bool bodyDecoded, long maxObjectBytes)
    {
        var cc = CacheControl.Parse(headers);
        if (cc.NoStore) return "no_store";
        if (!StorableStatuses.Contains(status)) return "status_not_cacheable";
        string? contentType = null, vary = null;
        long? length = null;
        var encoded = false;
        var validators = false;
        var expires = false;
        foreach (var (name, value) in headers)
        {
            if (name.Equals("set-cookie", StringComparison.OrdinalIgnoreCase)) return "response_set_cookie";
            if (name.Equals("content-type", StringComparison.OrdinalIgnoreCase)) contentType = value;
            else if (name.Equals("vary", StringComparison.OrdinalIgnoreCase)) vary = vary is null ? value : vary + "," + value;
            else if (name.Equals("content-length", StringComparison.OrdinalIgnoreCase) && long.TryParse(value, out var n)) length = n;
            else if (name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase) && !value.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase)) encoded = true;
            else if (name.Equals("etag", StringComparison.OrdinalIgnoreCase) || name.Equals("last-modified", StringComparison.OrdinalIgnoreCase)) validators = true;
            else if (name.Equals("expires", StringComparison.OrdinalIgnoreCase)) expires = true;
        }
        if (contentType?.TrimStart().StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true) return "event_stream";
        if (vary is not null && VaryNames(vary) is null) return "vary_star";
        if (length > maxObjectBytes) return "too_large";
        if (encoded && !bodyDecoded) return "encoded_body";
        var explicitFreshness = cc.MaxAge is not null || expires;
        if (!explicitFreshness && !HeuristicStatuses.Contains(status)) return "status_not_cacheable";
        if (!explicitFreshness && !validators) return "not_fresh";
        return null;
    }

    /// <summary>The header names of a Vary value, lower-cased and sorted; null for `*`.</summary>
    public static string[]? VaryNames(string? vary)
    {
        if (string.IsNullOrWhiteSpace(vary)) return [];
        var names = vary.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Any(n => n == "*")) return null;
        return names.Select(n => n.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The request's values of the named headers (joined by ", " per name), the entry's secondary key.</summary>
    public static Dictionary<string, string> VaryValues(IReadOnlyList<string> names, IReadOnlyList<KeyValuePair<string, string>> requestHeaders)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var joined = string.Join(", ", requestHeaders.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value.Trim()));
            values[name] = joined;
        }
        return values;
    }

    /// <summary>RFC 9111 §4.2.1: max-age (s-maxage ignored: private cache), else Expires − Date, else heuristic
    /// (10% of Date − Last-Modified, at most a day) for statuses cacheable by default.</summary>
    public static TimeSpan FreshnessLifetime(int status, IReadOnlyList<KeyValuePair<string, string>> headers, DateTimeOffset responseTime)
    {
        var cc = CacheControl.Parse(headers);
        if (cc.MaxAge is { } maxAge) return maxAge;
        var date = HttpDate(headers, "date") ?? responseTime;
        if (Header(headers, "expires") is { } expiresText)
        {
            // An invalid Expires (e.g. "0") means already expired (RFC 9111 §5.3).
            var expires = ParseDate(expiresText);
            return expires is null || expires <= date ? TimeSpan.Zero : expires.Value - date;
        }
        if (HeuristicStatuses.Contains(status) && HttpDate(headers, "last-modified") is { } lastModified && lastModified < date)
        {
            var tenth = TimeSpan.FromTicks((date - lastModified).Ticks / 10);
            return tenth > TimeSpan.FromDays(1) ? TimeSpan.FromDays(1) : tenth;
        }
        return TimeSpan.Zero;
    }

    /// <summary>RFC 9111 §4.2.3 current_age.</summary>
    public static TimeSpan CurrentAge(IReadOnlyList<KeyValuePair<string, string>> headers, DateTimeOffset requestTime, DateTimeOffset responseTime, DateTimeOffset now) =>
        CurrentAge(HttpDate(headers, "date"), long.TryParse(Header(headers, "age"), out var a) && a >= 0 ? TimeSpan.FromSeconds(a) : TimeSpan.Zero,
            requestTime, responseTime, now);

    /// <summary>RFC 9111 §4.2.3 current_age from the already parsed Date and Age values.</summary>
    public static TimeSpan CurrentAge(DateTimeOffset? dateHeader, TimeSpan ageValue, DateTimeOffset requestTime, DateTimeOffset responseTime, DateTimeOffset now)
    {
        var date = dateHeader ?? responseTime;
        var apparent = responseTime - date;
        if (apparent < TimeSpan.Zero) apparent = TimeSpan.Zero;
        var delay = responseTime - requestTime;
        if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
        var corrected = ageValue + delay;
        var initial = apparent > corrected ? apparent : corrected;
        var resident = now - responseTime;
        if (resident < TimeSpan.Zero) resident = TimeSpan.Zero;
        return initial + resident;
    }

    /// <summary>What a request's directives (RFC 9111 §5.2.1) allow with a stored response of this age and lifetime.</summary>
    public static Usability Evaluate(CacheControl request, CacheControl response, TimeSpan lifetime, TimeSpan age)
    {
        if (response.NoCache || request.NoCache) return Usability.MustRevalidate;
        if (request.MaxAge is { } maxAge && age > maxAge) return Usability.MustRevalidate;
        var remaining = lifetime - age;
        if (request.MinFresh is { } minFresh && remaining < minFresh) return Usability.MustRevalidate;
        if (remaining > TimeSpan.Zero) return Usability.Fresh;
        if (response.MustRevalidate) return Usability.MustRevalidate;
        if (request.MaxStale && (request.MaxStaleLimit is not { } limit || -remaining <= limit)) return Usability.StaleAllowed;
        return Usability.MustRevalidate;
    }

    public static string? Header(IReadOnlyList<KeyValuePair<string, string>> headers, string name)
    {
        for (var i = headers.Count - 1; i >= 0; i--) if (headers[i].Key.Equals(name, StringComparison.OrdinalIgnoreCase)) return headers[i].Value;
        return null;
    }

    public static DateTimeOffset? HttpDate(IReadOnlyList<KeyValuePair<string, string>> headers, string name) =>
        Header(headers, name) is { } text ? ParseDate(text) : null;

    private static DateTimeOffset? ParseDate(string text) =>
        DateTimeOffset.TryParseExact(text.Trim(), ["r", "dddd, dd-MMM-yy HH:mm:ss 'GMT'", "ddd MMM d HH:mm:ss yyyy"],
            System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AllowWhiteSpaces, out var d) ? d : null;

    /// <summary>The stored head after a 304 (RFC 9111 §3.2): its header fields replace the stored ones of the same name.</summary>
    public static List<KeyValuePair<string, string>> MergeHeaders(IReadOnlyList<KeyValuePair<string, string>> stored, IReadOnlyList<KeyValuePair<string, string>> fresh)
    {
        var skip = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive" };
        var replaced = new HashSet<string>(fresh.Select(h => h.Key).Where(n => !skip.Contains(n)), StringComparer.OrdinalIgnoreCase);
        var merged = stored.Where(h => !replaced.Contains(h.Key)).ToList();
        merged.AddRange(fresh.Where(h => !skip.Contains(h.Key)));
        return merged;
    }
}
