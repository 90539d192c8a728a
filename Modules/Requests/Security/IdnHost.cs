// Internationalised host names (issue 15): libcurl converts them with libidn2 in the process locale,
// which is "C" in a sidecar, so `http://bücher.example/` failed with a 502 before any connection. The
// executor hands libcurl and the SSRF guard the ASCII (punycode) form instead, so --resolve entries,
// the guard's checks and the connection all see the same name.
using System.Globalization;

namespace HoodyCurl.Requests.Security;

public static class IdnHost
{
    private static readonly IdnMapping Mapping = new() { AllowUnassigned = false, UseStd3AsciiRules = false };

    /// <summary>
    /// <paramref name="url"/> with a non-ASCII host replaced by its punycode form (lowercased); any other
    /// URL, or one whose host IDNA refuses, is returned unchanged (the guard then judges it as given).
    /// </summary>
    public static string ToAsciiUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0) return url;
        var start = scheme + 3;
        var end = url.AsSpan(start).IndexOfAny('/', '?', '#');
        end = end < 0 ? url.Length : start + end;
        var authority = url.AsSpan(start, end - start);
        if (!authority.ContainsAnyExceptInRange('\0', '\x7f')) return url;

        var hostStart = start + authority.LastIndexOf('@') + 1;
        if (hostStart < end && url[hostStart] == '[') return url; // IPv6 literal
        var colon = url.AsSpan(hostStart, end - hostStart).IndexOf(':');
        var hostEnd = colon < 0 ? end : hostStart + colon;
        var host = url[hostStart..hostEnd];
        if (!host.AsSpan().ContainsAnyExceptInRange('\0', '\x7f')) return url; // only the userinfo is non-ASCII
        string ascii;
        try
        {
            ascii = Mapping.GetAscii(host.ToLowerInvariant());
        }
        catch (ArgumentException)
        {
            return url;
        }
        return string.Concat(url.AsSpan(0, hostStart), ascii, url.AsSpan(hostEnd));
    }
}
