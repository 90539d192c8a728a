// Response header rules shared by every door that answers with an upstream response (docs/api.md D4):
// the `headers` map has lowercase keys with repeats joined by ", " (set-cookie only in raw_headers),
// `raw_headers` keeps original case and order; relays drop hop-by-hop headers.
using System.Text.Json;

namespace HoodyCurl.Requests.Model;

public static class ResponseHeaders
{
    /// <summary>
    /// Headers that describe one connection or one hop, never relayed (RFC 9110 §7.6.1, plus the proxy
    /// authentication pair of RFC 9110 §11.7, which answers a proxy the caller never talked to). The one
    /// list: the transparent relay and the job result both drop these.
    /// </summary>
    public static bool IsHopByHop(string name) => name.ToLowerInvariant() is
        "connection" or "keep-alive" or "proxy-connection" or "transfer-encoding" or "te" or "trailer" or "upgrade"
        or "proxy-authenticate" or "proxy-authorization";

    /// <summary>True when <paramref name="name"/> is an RFC 9110 token (a field name an HTTP server can write).</summary>
    public static bool IsToken(string name) => name.Length > 0 && !name.AsSpan().ContainsAnyExcept(TokenChars);

    /// <summary>
    /// The value as a relay can write it: control characters other than HTAB (and DEL) become SP, as RFC 9110 §5.5
    /// allows; everything else, obs-text included, is kept.
    /// </summary>
    public static string WritableValue(string value)
    {
        if (value.AsSpan().IndexOfAny(ControlChars) < 0) return value;
        return string.Create(value.Length, value, static (span, v) =>
        {
            for (var i = 0; i < v.Length; i++) span[i] = (v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7F ? ' ' : v[i];
        });
    }

    private static readonly System.Buffers.SearchValues<char> TokenChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly System.Buffers.SearchValues<char> ControlChars = System.Buffers.SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000A\u000B\u000C\u000D\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F");

    /// <summary>The headers minus Content-Encoding and Content-Length, for a body libcurl has decoded.</summary>
    public static IReadOnlyList<HeaderEntry> WithoutEncoding(IReadOnlyList<HeaderEntry> headers) =>
        [.. headers.Where(h => !h.Name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase)
                               && !h.Name.Equals("content-length", StringComparison.OrdinalIgnoreCase))];

    /// <summary>
    /// The `headers` map (docs/api.md D4): lowercase name → value in first-seen order, repeated names joined
    /// with ", ". set-cookie is left out: its entries cannot be joined safely and live in raw_headers only.
    /// Linear in the number of headers: repeats are joined in one builder per name.
    /// </summary>
    public static List<KeyValuePair<string, string>> Map(IReadOnlyList<HeaderEntry> headers)
    {
        var seen = new Dictionary<string, System.Text.StringBuilder>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var h in headers)
        {
            var key = h.Name.ToLowerInvariant();
            if (key == "set-cookie") continue;
            if (seen.TryGetValue(key, out var existing)) existing.Append(", ").Append(h.Value);
            else { seen[key] = new System.Text.StringBuilder(h.Value); order.Add(key); }
        }
        var map = new List<KeyValuePair<string, string>>(order.Count);
        foreach (var key in order) map.Add(new(key, seen[key].ToString()));
        return map;
    }

    public static void WriteMap(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers)
    {
        w.WriteStartObject(propertyName);
        foreach (var (key, value) in Map(headers)) w.WriteString(key, value);
        w.WriteEndObject();
    }

    public static void WriteRaw(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers)
    {
        w.WriteStartArray(propertyName);
        foreach (var h in headers)
        {
            w.WriteStartObject();
            w.WriteString("name", h.Name);
            w.WriteString("value", h.Value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
