// Response header rules shared by every door that answers with an upstream response (decisions D4):
// the `headers` map has lowercase keys with repeats joined by ", " (set-cookie only in raw_headers),
// `raw_headers` keeps original case and order; relays drop hop-by-hop headers.
using System.Text.Json;

namespace HoodyCurl.Requests.Model;

public static class ResponseHeaders
{
    /// <summary>Hop-by-hop headers (RFC 9110 §7.6.1) and framing headers a relay recomputes.</summary>
    public static bool IsHopByHop(string name) => name.ToLowerInvariant() is
        "connection" or "keep-alive" or "proxy-connection" or "transfer-encoding" or "te" or "trailer" or "upgrade";

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

    /// <summary>Linear in the number of headers: repeats are joined in one builder per name.</summary>
    public static void WriteMap(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers)
    {
        w.WriteStartObject(propertyName);
        var seen = new Dictionary<string, System.Text.StringBuilder>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var h in headers)
        {
            var key = h.Name.ToLowerInvariant();
            if (key == "set-cookie") continue;
            if (seen.TryGetValue(key, out var existing)) existing.Append(", ").Append(h.Value);
            else { seen[key] = new System.Text.StringBuilder(h.Value); order.Add(key); }
        }
        foreach (var key in order) w.WriteString(key, seen[key].ToString());
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
