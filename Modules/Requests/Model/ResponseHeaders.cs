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
    public static bool IsHopByHop(string name) => name.Length switch
    {
        // Compared without lowering a copy: ToLowerInvariant allocated a string per relayed header (issue 13).
        2 => name.Equals("te", StringComparison.OrdinalIgnoreCase),
        7 => name.Equals("trailer", StringComparison.OrdinalIgnoreCase) || name.Equals("upgrade", StringComparison.OrdinalIgnoreCase),
        10 => name.Equals("connection", StringComparison.OrdinalIgnoreCase) || name.Equals("keep-alive", StringComparison.OrdinalIgnoreCase),
        16 => name.Equals("proxy-connection", StringComparison.OrdinalIgnoreCase),
        17 => name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase),
        18 => name.Equals("proxy-authenticate", StringComparison.OrdinalIgnoreCase),
        19 => name.Equals("proxy-authorization", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

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

    /// <summary>
    /// Writes <see cref="Map"/>'s result as a JSON object. Up to <see cref="DirectMapLimit"/> headers it is written
    /// straight from the list, with no dictionary, no builders and no lowered copies of the names:
    /// building the map was 6 of the ~25 us a 1 KiB `response=json` answer costs over a transparent one (perf, issue 13).
    /// </summary>
    public static void WriteMap(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers)
    {
        w.WriteStartObject(propertyName);
        if (headers.Count > DirectMapLimit || !AsciiNames(headers))
        {
            foreach (var (key, value) in Map(headers)) w.WriteString(key, value);
        }
        else
        {
            Span<char> lowered = stackalloc char[128];
            for (var i = 0; i < headers.Count; i++)
            {
                var name = headers[i].Name;
                if (SameName(name, "set-cookie") || SeenBefore(headers, i)) continue;
                string? joined = null;
                for (var j = i + 1; j < headers.Count; j++)
                    if (SameName(headers[j].Name, name)) joined = string.Concat(joined ?? headers[i].Value, ", ", headers[j].Value);
                var value = joined ?? headers[i].Value;
                if (name.Length <= lowered.Length)
                {
                    var lower = lowered[..name.Length]; // no lowered copy of the name on the heap
                    name.AsSpan().ToLowerInvariant(lower);
                    w.WriteString(lower, value);
                }
                else
                {
                    w.WriteString(name.ToLowerInvariant(), value);
                }
            }
        }
        w.WriteEndObject();
    }

    /// <summary>Above this many headers the map is built with a dictionary (the direct path compares every pair).</summary>
    internal const int DirectMapLimit = 32;

    /// <summary>ASCII names lower char by char exactly as a whole string does; anything else takes the map's path.</summary>
    private static bool AsciiNames(IReadOnlyList<HeaderEntry> headers)
    {
        foreach (var h in headers)
            if (h.Name.AsSpan().ContainsAnyExceptInRange('\0', '\u007f')) return false;
        return true;
    }

    private static bool SeenBefore(IReadOnlyList<HeaderEntry> headers, int index)
    {
        for (var j = 0; j < index; j++)
            if (SameName(headers[j].Name, headers[index].Name)) return true;
        return false;
    }

    /// <summary>Equal once both are lowered, as <see cref="Map"/> keys them (ASCII names: the direct path only sees those).</summary>
    private static bool SameName(string a, string b) => a.Equals(b, StringComparison.OrdinalIgnoreCase);

    // Encoded once: as strings, each write checked and transcoded the two names again (0.5 µs per json answer; perf, issue 13).
    private static readonly JsonEncodedText NameField = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText ValueField = JsonEncodedText.Encode("value");

    public static void WriteRaw(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers)
    {
        w.WriteStartArray(propertyName);
        foreach (var h in headers)
        {
            w.WriteStartObject();
            w.WriteString(NameField, h.Name);
            w.WriteString(ValueField, h.Value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
