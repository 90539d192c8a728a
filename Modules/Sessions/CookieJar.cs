// The jar's on-the-wire form and its rules. libcurl's cookie engine does the browser-grade work
// (domain, path, Secure and expiry matching, Max-Age, replacement); we only move its contents in and
// out as Netscape cookie-file lines (CURLOPT_COOKIELIST in, CURLINFO_COOKIELIST out):
//
//   [#HttpOnly_][.]domain \t TRUE|FALSE (tail match) \t path \t TRUE|FALSE (secure) \t expires \t name \t value
//
// A leading '.' / TRUE means a Domain= cookie that also matches subdomains; otherwise the cookie is
// host-only. expires is Unix seconds; 0 means a session cookie (kept until deleted: our jars persist).
// Expired entries (libcurl records Max-Age=0 as expires=1) are dropped here.
using System.Globalization;

namespace HoodyCurl.Sessions;

/// <summary>One cookie of a jar. <see cref="Domain"/> never has the leading dot.</summary>
internal sealed record StoredCookie(
    string Domain, bool HostOnly, string Path, bool Secure, bool HttpOnly, long Expires, string Name, string Value)
{
    /// <summary>True when the cookie has an expiry that is not after <paramref name="nowUnixSeconds"/>.</summary>
    public bool IsExpired(long nowUnixSeconds) => Expires != 0 && Expires <= nowUnixSeconds;
}

internal static class CookieJar
{
    private const string HttpOnlyPrefix = "#HttpOnly_";

    /// <summary>Parses one Netscape cookie-file line; null for comments, blank or malformed lines.</summary>
    public static StoredCookie? Parse(string line)
    {
        if (string.IsNullOrEmpty(line)) return null;
        var httpOnly = false;
        var text = line.AsSpan().TrimEnd("\r\n");
        if (text.StartsWith(HttpOnlyPrefix, StringComparison.Ordinal))
        {
            httpOnly = true;
            text = text[HttpOnlyPrefix.Length..];
        }
        else if (text.StartsWith("#", StringComparison.Ordinal))
        {
            return null;
        }
        foreach (var c in text)
        {
            if ((c < 0x20 && c != '\t') || c == 0x7f) return null;
        }
        Span<Range> fields = stackalloc Range[8];
        var count = text.Split(fields, '\t');
        if (count is < 6 or > 7) return null;
        var domainField = text[fields[0]];
        var tailMatch = text[fields[1]].Equals("TRUE", StringComparison.OrdinalIgnoreCase);
        var path = text[fields[2]];
        var secure = text[fields[3]].Equals("TRUE", StringComparison.OrdinalIgnoreCase);
        if (!long.TryParse(text[fields[4]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var expires)) return null;
        var name = text[fields[5]];
        var value = count == 7 ? text[fields[6]] : [];
        var domain = domainField.TrimStart('.');
        if (domain.IsEmpty || path.IsEmpty || path[0] != '/' || name.IsEmpty) return null;
        // A negative expiry is a date before 1970: expired.
        if (expires < 0) expires = 1;
        var hostOnly = !tailMatch && !domainField.StartsWith(".", StringComparison.Ordinal);
        return new StoredCookie(domain.ToString().ToLowerInvariant(), hostOnly, path.ToString(), secure, httpOnly, expires,
            name.ToString(), value.ToString());
    }

    /// <summary>The Netscape line libcurl reads back into its engine (the inverse of <see cref="Parse"/>).</summary>
    public static string Format(StoredCookie c) => string.Create(CultureInfo.InvariantCulture,
        $"{(c.HttpOnly ? HttpOnlyPrefix : "")}{(c.HostOnly ? "" : ".")}{c.Domain}\t{(c.HostOnly ? "FALSE" : "TRUE")}\t{c.Path}\t{(c.Secure ? "TRUE" : "FALSE")}\t{c.Expires}\t{c.Name}\t{c.Value}");

    /// <summary>
    /// The jar to store: parsed, expired and malformed lines dropped, one cookie per
    /// (name, domain, host-only, path) — the last one wins, as in libcurl — at most
    /// <paramref name="maxCookies"/> (those expiring first are dropped), in a stable order.
    /// </summary>
    public static List<StoredCookie> Normalize(IEnumerable<string> lines, long nowUnixSeconds, int maxCookies, out int dropped)
    {
        var byScope = new Dictionary<(string, string, bool, string), StoredCookie>();
        foreach (var line in lines)
        {
            if (Parse(line) is not { } cookie || cookie.IsExpired(nowUnixSeconds)) continue;
            byScope[(cookie.Name, cookie.Domain, cookie.HostOnly, cookie.Path)] = cookie;
        }
        var cookies = byScope.Values.ToList();
        dropped = 0;
        if (cookies.Count > maxCookies)
        {
            dropped = cookies.Count - maxCookies;
            cookies = [.. cookies.OrderByDescending(c => c.Expires == 0 ? long.MaxValue : c.Expires).Take(maxCookies)];
        }
        cookies.Sort(Compare);
        return cookies;
    }

    /// <summary>Stable order: domain, path, name, then host-only before domain cookies.</summary>
    public static int Compare(StoredCookie a, StoredCookie b)
    {
        var c = string.CompareOrdinal(a.Domain, b.Domain);
        if (c != 0) return c;
        c = string.CompareOrdinal(a.Path, b.Path);
        if (c != 0) return c;
        c = string.CompareOrdinal(a.Name, b.Name);
        if (c != 0) return c;
        return b.HostOnly.CompareTo(a.HostOnly);
    }

    /// <summary>
    /// The flattened snapshot of docs/api.md (Sessions), in jar order: a name that occurs once is its own key;
    /// a name that occurs under several scopes is keyed `name@domain/path` for each of them (e.g.
    /// `lang@example.com/`). Should two of those still collide (the same domain as host-only and as a
    /// Domain= cookie) the Domain= one is keyed `name@.domain/path`.
    /// </summary>
    public static List<KeyValuePair<string, string>> Snapshot(IReadOnlyList<StoredCookie> cookies)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in cookies) counts[c.Name] = counts.GetValueOrDefault(c.Name) + 1;
        var scoped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in cookies)
        {
            if (counts[c.Name] > 1 && c.HostOnly) scoped.Add(ScopedKey(c, dotted: false));
        }
        var snapshot = new List<KeyValuePair<string, string>>(cookies.Count);
        foreach (var c in cookies)
        {
            if (counts[c.Name] == 1)
            {
                snapshot.Add(new(c.Name, c.Value));
                continue;
            }
            var key = ScopedKey(c, dotted: false);
            if (!c.HostOnly && scoped.Contains(key)) key = ScopedKey(c, dotted: true);
            snapshot.Add(new(key, c.Value));
        }
        return snapshot;
    }

    private static string ScopedKey(StoredCookie c, bool dotted) => $"{c.Name}@{(dotted ? "." : "")}{c.Domain}{c.Path}";
}
