// Decisions D9: API echoes never show secrets. Stored copies keep them (files 0600).
namespace HoodyCurl.Requests.Validation;

public static class Redaction
{
    /// <summary>Authorization-like headers whose values are shown as "***".</summary>
    public static bool IsSecretHeader(string name)
    {
        var n = name.ToLowerInvariant();
        return n is "authorization" or "proxy-authorization" or "cookie" or "set-cookie"
            || n.Contains("api-key", StringComparison.Ordinal) || n.Contains("apikey", StringComparison.Ordinal)
            || n.Contains("api_key", StringComparison.Ordinal) || n.Contains("token", StringComparison.Ordinal)
            || n.Contains("secret", StringComparison.Ordinal) || n.Contains("password", StringComparison.Ordinal);
    }

    /// <summary>Replaces a password in the URL's userinfo with "***".</summary>
    public static string Url(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return url;
        var authorityStart = scheme + 3;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0) authorityEnd = url.Length;
        var at = url.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
        if (at < 0) return url;
        var colon = url.IndexOf(':', authorityStart, at - authorityStart);
        if (colon < 0) return url;
        return string.Concat(url.AsSpan(0, colon + 1), CurlRequestJson.Redacted, url.AsSpan(at));
    }
}
