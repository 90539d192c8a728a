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
    /// Writes an answer's `headers` map and `raw_headers` list (docs/api.md D4). Both are laid out as bytes and handed to
    /// the writer whole when the headers' text allows it (<see cref="Layout"/>): written call by call (each name lowered as
    /// text, names compared ignoring case pair by pair, the writer transcoding and escape-checking every string), they
    /// were 17.7k + 10.8k instructions per 1 KiB json answer with nginx's 8 headers, 13.8k together this way (callgrind,
    /// bench/instructions.sh, issue 13).
    /// </summary>
    public static void Write(Utf8JsonWriter w, IReadOnlyList<HeaderEntry> headers)
    {
        var layout = Layout.Of(w, headers);
        WriteMap(w, "headers", headers, layout);
        WriteRaw(w, "raw_headers", headers, layout);
    }

    /// <summary>
    /// Writes <see cref="Map"/>'s result as a JSON object. Up to <see cref="DirectMapLimit"/> headers with ASCII names it is
    /// written straight from the list, with no dictionary, no builders and no lowered copies of the names on the heap:
    /// building the map was 6 of the ~25 us a 1 KiB `response=json` answer costs over a transparent one (perf, issue 13).
    /// The names are lowered once, as UTF-8, into one stack buffer, and repeats are found by comparing those bytes.
    /// </summary>
    public static void WriteMap(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers) =>
        WriteMap(w, propertyName, headers, Layout.Of(w, headers));

    /// <summary>`raw_headers`: every header as {name, value}, in order and original case.</summary>
    public static void WriteRaw(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers) =>
        WriteRaw(w, propertyName, headers, Layout.Of(w, headers));

    [System.Runtime.CompilerServices.SkipLocalsInit] // the stack buffers are only read where written (zeroing them was 8k instructions)
    private static void WriteMap(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers, Layout layout)
    {
        Span<byte> names = stackalloc byte[NameBytes];
        Span<int> ends = stackalloc int[DirectMapLimit];
        if (headers.Count > DirectMapLimit || !LowerAsciiNames(headers, names, ends))
        {
            w.WriteStartObject(propertyName);
            foreach (var (key, value) in Map(headers)) w.WriteString(key, value);
            w.WriteEndObject();
            return;
        }
        if (layout.Fits(headers.Count, MapPunctuation) && !layout.AnyNameEscaped)
        {
            Span<byte> json = stackalloc byte[JsonBytes];
            var at = 0;
            json[at++] = (byte)'{';
            for (var i = 0; i < headers.Count; i++)
            {
                var name = NameAt(names, ends, i);
                if (name.SequenceEqual("set-cookie"u8) || SeenBefore(names, ends, i, name)) continue;
                if (at > 1) json[at++] = (byte)',';
                json[at++] = (byte)'"';
                name.CopyTo(json[at..]);
                at += name.Length;
                "\":\""u8.CopyTo(json[at..]);
                at += 3;
                at += Narrow(headers[i].Value, json[at..], layout.Escaped(i, value: true));
                for (var j = i + 1; j < headers.Count; j++)
                {
                    if (!NameAt(names, ends, j).SequenceEqual(name)) continue;
                    ", "u8.CopyTo(json[at..]);
                    at += 2;
                    at += Narrow(headers[j].Value, json[at..], layout.Escaped(j, value: true));
                }
                json[at++] = (byte)'"';
            }
            json[at++] = (byte)'}';
            w.WritePropertyName(propertyName);
            w.WriteRawValue(json[..at], skipInputValidation: true);
            return;
        }
        w.WriteStartObject(propertyName);
        for (var i = 0; i < headers.Count; i++)
        {
            var name = NameAt(names, ends, i);
            if (name.SequenceEqual("set-cookie"u8) || SeenBefore(names, ends, i, name)) continue;
            string? joined = null;
            for (var j = i + 1; j < headers.Count; j++)
                if (NameAt(names, ends, j).SequenceEqual(name)) joined = string.Concat(joined ?? headers[i].Value, ", ", headers[j].Value);
            w.WriteString(name, joined ?? headers[i].Value);
        }
        w.WriteEndObject();
    }

    [System.Runtime.CompilerServices.SkipLocalsInit]
    private static void WriteRaw(Utf8JsonWriter w, string propertyName, IReadOnlyList<HeaderEntry> headers, Layout layout)
    {
        if (layout.Fits(headers.Count, RawPunctuation))
        {
            Span<byte> json = stackalloc byte[JsonBytes];
            var at = 0;
            json[at++] = (byte)'[';
            for (var i = 0; i < headers.Count; i++)
            {
                if (i > 0) json[at++] = (byte)',';
                "{\"name\":\""u8.CopyTo(json[at..]);
                at += 9;
                at += Narrow(headers[i].Name, json[at..], layout.Escaped(i, value: false));
                "\",\"value\":\""u8.CopyTo(json[at..]);
                at += 11;
                at += Narrow(headers[i].Value, json[at..], layout.Escaped(i, value: true));
                "\"}"u8.CopyTo(json[at..]);
                at += 2;
            }
            json[at++] = (byte)']';
            w.WritePropertyName(propertyName);
            w.WriteRawValue(json[..at], skipInputValidation: true);
            return;
        }
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

    /// <summary>Above this many headers the map is built with a dictionary (the direct path compares every pair).</summary>
    internal const int DirectMapLimit = 32;

    /// <summary>Room for the lowered names of the direct path; longer lists of names take the map's path.</summary>
    private const int NameBytes = 2048;

    /// <summary>Room for a headers object or array laid out as bytes; a larger one is written through the writer's calls.</summary>
    private const int JsonBytes = 4096;

    /// <summary>The bytes around one map entry: "":"" and a comma (a repeat adds ", " and no name: less).</summary>
    private const int MapPunctuation = 6;

    /// <summary>The bytes around one raw header: {"name":"","value":""} and a comma.</summary>
    private const int RawPunctuation = 23;

    /// <summary>
    /// Every name lowered into <paramref name="names"/>, one after another, with where each ends; false when one is not
    /// ASCII (those take the map's path, which lowers them as text) or they do not fit. ASCII lowers byte by byte exactly
    /// as a whole string does.
    /// </summary>
    private static bool LowerAsciiNames(IReadOnlyList<HeaderEntry> headers, Span<byte> names, Span<int> ends)
    {
        var used = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            var name = headers[i].Name;
            if (name.Length > names.Length - used) return false;
            if (System.Text.Ascii.ToLower(name, names[used..], out var written) != System.Buffers.OperationStatus.Done) return false;
            ends[i] = used += written;
        }
        return true;
    }

    private static ReadOnlySpan<byte> NameAt(ReadOnlySpan<byte> names, ReadOnlySpan<int> ends, int index)
    {
        var start = index == 0 ? 0 : ends[index - 1];
        return names[start..ends[index]];
    }

    private static bool SeenBefore(ReadOnlySpan<byte> names, ReadOnlySpan<int> ends, int index, ReadOnlySpan<byte> name)
    {
        for (var j = 0; j < index; j++)
            if (NameAt(names, ends, j).SequenceEqual(name)) return true;
        return false;
    }

    /// <summary>
    /// Characters every JSON encoder leaves as they are: printable ASCII but the quote and backslash (always escaped) and
    /// what the default encoder also escapes (HTML-sensitive &lt; &gt; &amp; ', and + `). Text made only of these is the same
    /// bytes in the answer whatever encoder the writer has, so it is copied, not escaped.
    /// </summary>
    internal static readonly System.Buffers.SearchValues<char> PlainChars =
        System.Buffers.SearchValues.Create(" !#$%()*,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>What the relaxed encoder (the envelope's) leaves as it is: printable ASCII but the quote and backslash.</summary>
    private static readonly System.Buffers.SearchValues<char> RelaxedChars =
        System.Buffers.SearchValues.Create(" !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    internal static bool IsPlain(string text) => !text.AsSpan().ContainsAnyExcept(PlainChars);

    /// <summary>
    /// Whether the headers can be laid out as bytes, and what that needs: the bytes their text takes with its escapes, and
    /// which names and values hold a character to escape. Only for an unindented writer (its layout otherwise differs),
    /// up to <see cref="DirectMapLimit"/> headers, and text every such writer writes the same: <see cref="PlainChars"/>,
    /// or, for the relaxed encoder the envelope uses, all printable ASCII with the quote and backslash written \" and \\
    /// (an ETag always holds quotes). Anything else goes through the writer's calls.
    /// </summary>
    private readonly struct Layout(bool possible, int textBytes, ulong escaped)
    {
        public static Layout Of(Utf8JsonWriter w, IReadOnlyList<HeaderEntry> headers)
        {
            if (w.Options.Indented || headers.Count > DirectMapLimit) return default;
            var relaxed = ReferenceEquals(w.Options.Encoder, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
            var total = 0;
            ulong escaped = 0;
            for (var i = 0; i < headers.Count; i++)
            {
                var name = Escapes(headers[i].Name, relaxed);
                var value = Escapes(headers[i].Value, relaxed);
                if (name < 0 || value < 0) return default;
                if (name > 0) escaped |= 1UL << (2 * i);
                if (value > 0) escaped |= 1UL << (2 * i + 1);
                total += headers[i].Name.Length + name + headers[i].Value.Length + value;
                if (total > JsonBytes) return default;
            }
            return new Layout(true, total, escaped);
        }

        /// <summary>True when the headers laid out with <paramref name="overhead"/> bytes of punctuation each fit the buffer.</summary>
        public bool Fits(int count, int overhead) => possible && textBytes + count * overhead + 2 <= JsonBytes;

        public bool Escaped(int index, bool value) => (escaped & (1UL << (2 * index + (value ? 1 : 0)))) != 0;

        public bool AnyNameEscaped => (escaped & 0x5555_5555_5555_5555UL) != 0;
    }

    /// <summary>How many escapes the layout adds to <paramref name="text"/>, or -1 when it holds a character the layout does not write.</summary>
    private static int Escapes(string text, bool relaxed)
    {
        var span = text.AsSpan();
        var first = span.IndexOfAnyExcept(relaxed ? RelaxedChars : PlainChars); // one vectorised scan; most text stops here
        if (first < 0) return 0;
        if (!relaxed) return -1;
        var count = 0;
        foreach (var c in span[first..])
        {
            if (c is '"' or '\\') count++;
            else if (c is < ' ' or > '~') return -1;
        }
        return count;
    }

    /// <summary>Copies text <see cref="Escapes"/> accepted as bytes, the quote and backslash escaped where it found them; returns how many.</summary>
    private static int Narrow(string text, Span<byte> destination, bool escaped)
    {
        if (!escaped)
        {
            System.Text.Ascii.FromUtf16(text, destination, out var written);
            return written;
        }
        var at = 0;
        foreach (var c in text)
        {
            if (c is '"' or '\\') destination[at++] = (byte)'\\';
            destination[at++] = (byte)c;
        }
        return at;
    }

    // Encoded once: as strings, each write checked and transcoded the two names again (0.5 µs per json answer; perf, issue 13).
    private static readonly JsonEncodedText NameField = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText ValueField = JsonEncodedText.Encode("value");
}
