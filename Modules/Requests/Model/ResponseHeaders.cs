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

    /// <summary>The headers minus Content-Encoding and Content-Length, for a body libcurl has decoded.</summary>
    public static IReadOnlyList<HeaderEntry> WithoutEncoding(IReadOnlyList<HeaderEntry> headers) =>
        [.. headers.Where(h => !h.Name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase)
                               && !h.Name.Equals("content-length", StringComparison.OrdinalIgnoreCase))];

    public static void WriteMap(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers)
    {
        w.WriteStartObject(propertyName);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var h in headers)
        {
            var key = h.Name.ToLowerInvariant();
            if (key == "set-cookie") continue;
            if (seen.TryGetValue(key, out var existing)) seen[key] = existing + ", " + h.Value;
            else { seen[key] = h.Value; order.Add(key); }
        }
        foreach (var key in order) w.WriteString(key, seen[key]);
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
