// What a request must not carry to another origin (issue 16 item 4). libcurl follows redirects itself and
// already drops basic/digest credentials on a host change, but it sends the `cookie` field and every
// custom header (X-Api-Key, a bearer Authorization, ...) to whatever host a redirect names. When a
// redirect changes scheme, host or port, the transfer switches to a header list without the secrets.
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Engine;

internal static class RedirectSecrets
{
    /// <summary>Cookie, Authorization and Proxy-Authorization always; else a name that matches a pattern.</summary>
    public static bool IsSecret(string name, IReadOnlyList<string> patterns)
    {
        if (name.Equals("cookie", StringComparison.OrdinalIgnoreCase) || name.Equals("authorization", StringComparison.OrdinalIgnoreCase) ||
            name.Equals("proxy-authorization", StringComparison.OrdinalIgnoreCase)) return true;
        foreach (var pattern in patterns) if (Glob(pattern, name)) return true;
        return false;
    }

    /// <summary>Case-insensitive glob with `*` (any run, possibly empty); linear-ish for header-sized input.</summary>
    public static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(text[t])) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = t; }
            else if (star >= 0) { p = star + 1; t = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    /// <summary>
    /// Whether <paramref name="location"/> (resolved against the hop that sent it, <paramref name="current"/>)
    /// names another origin than the request's first URL, <paramref name="original"/>.
    /// </summary>
    public static bool LeavesOrigin(string original, string current, string location)
    {
        if (!Uri.TryCreate(original, UriKind.Absolute, out var origin)) return true;
        if (!Uri.TryCreate(current, UriKind.Absolute, out var hop)) hop = origin;
        if (!Uri.TryCreate(hop, location, out var target)) return true;
        return !string.Equals(origin.Scheme, target.Scheme, StringComparison.OrdinalIgnoreCase) ||
               !string.Equals(origin.IdnHost, target.IdnHost, StringComparison.OrdinalIgnoreCase) ||
               origin.Port != target.Port;
    }

    /// <summary>Whether the request carries anything that must be dropped on a cross-origin redirect.</summary>
    public static bool HasSecrets(CurlRequest r, IReadOnlyList<string> patterns) =>
        r.Cookie is not null || r.BearerToken is not null || r.Headers?.Any(h => IsSecret(h.Name, patterns)) == true;
}
