// What a link record shows of its stored request. On top of the shared rules (docs/api.md D9: bearer_token,
// auth_password, cookie and Authorization/Cookie/X-Api-Key-like header values become "***"), a shared
// link must not leak what its URL or headers carry: the whole URL userinfo (a token may be the user
// name, https://TOKEN@host), query values whose names look secret (token, api_key, secret, password,
// signature, …) and any header whose value is a Bearer/Basic/Token/Digest credential whatever its name.
using System.Text;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Links;

internal static class LinkRedaction
{
    public const string Redacted = CurlRequestJson.Redacted;

    private static readonly string[] CredentialSchemes = ["bearer ", "basic ", "token ", "digest ", "negotiate ", "ntlm "];

    private static readonly string[] SecretQueryWords =
        ["token", "secret", "password", "passwd", "pwd", "apikey", "api_key", "api-key", "key", "sig", "signature", "auth", "credential", "session"];

    /// <summary>A copy of <paramref name="request"/> safe to show (then written with the Api flavour, which redacts the rest).</summary>
    public static CurlRequest ForDisplay(CurlRequest request) => request with
    {
        Url = Url(request.Url),
        Headers = request.Headers?.Select(h => IsSecretHeader(h) ? h with { Value = Redacted } : h).ToList(),
    };

    public static bool IsSecretHeader(HeaderEntry header)
    {
        if (Redaction.IsSecretHeader(header.Name)) return true;
        var value = header.Value.TrimStart();
        foreach (var scheme in CredentialSchemes)
            if (value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>The URL with its whole userinfo and the values of secret-looking query parameters as "***".</summary>
    public static string Url(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return url;
        var authorityStart = scheme + 3;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0) authorityEnd = url.Length;
        var at = url.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
        if (at >= 0) url = string.Concat(url.AsSpan(0, authorityStart), Redacted, url.AsSpan(at));

        var hash = url.IndexOf('#', StringComparison.Ordinal);
        var head = hash < 0 ? url : url[..hash];
        var fragment = hash < 0 ? "" : url[hash..];
        var q = head.IndexOf('?', StringComparison.Ordinal);
        if (q < 0) return url;
        var text = new StringBuilder(head, 0, q + 1, url.Length);
        var parts = head[(q + 1)..].Split('&');
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0) text.Append('&');
            var part = parts[i];
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0 && IsSecretQueryName(part[..eq])) text.Append(part, 0, eq + 1).Append(Redacted);
            else text.Append(part);
        }
        return text.Append(fragment).ToString();
    }

    private static bool IsSecretQueryName(string raw)
    {
        string name;
        try { name = Uri.UnescapeDataString(raw).ToLowerInvariant(); }
        catch (UriFormatException) { name = raw.ToLowerInvariant(); }
        foreach (var word in SecretQueryWords)
            if (name.Contains(word, StringComparison.Ordinal)) return true;
        return false;
    }
}
