// The `headers` map written straight from the header list (the json envelope's fast path) says exactly what the
// dictionary-built map says: lowercase first-seen names in order, repeats joined with ", " whatever their case,
// set-cookie left out; long lists and non-ASCII names go through the map itself. And the hop-by-hop test matches
// the list of names in any case, nothing else.
using System.Text;
using System.Text.Json;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Tests.Model;

public class ResponseHeadersTests
{
    private static readonly JsonWriterOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Direct(IReadOnlyList<HeaderEntry> headers, JsonWriterOptions options = default)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, options))
        {
            w.WriteStartObject();
            ResponseHeaders.WriteMap(w, "headers", headers);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string ViaMap(IReadOnlyList<HeaderEntry> headers, JsonWriterOptions options = default)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, options))
        {
            w.WriteStartObject();
            w.WriteStartObject("headers");
            foreach (var (key, value) in ResponseHeaders.Map(headers)) w.WriteString(key, value);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static HeaderEntry[] H(params string[] pairs) =>
        [.. Enumerable.Range(0, pairs.Length / 2).Select(i => new HeaderEntry(pairs[2 * i], pairs[2 * i + 1]))];

    [Test]
    public async Task Repeats_in_any_case_are_joined_under_the_first_lowercase_name_and_set_cookie_is_left_out()
    {
        var headers = H("Server", "nginx", "Vary", "Accept", "Set-Cookie", "a=1", "vary", "Origin", "X-Id", "7",
            "SET-COOKIE", "b=2", "VARY", "Cookie", "Content-Type", "text/plain");
        var json = Direct(headers);
        await Assert.That(json).IsEqualTo(
            """{"headers":{"server":"nginx","vary":"Accept, Origin, Cookie","x-id":"7","content-type":"text/plain"}}""");
        await Assert.That(json).IsEqualTo(ViaMap(headers));
    }

    [Test]
    public async Task Random_header_lists_give_the_same_object_as_the_map()
    {
        var names = new[] { "Vary", "vary", "VARY", "Set-Cookie", "set-cookie", "X-A", "x-a", "Link", "Cache-Control", "ETag", "Ä-Latin1", "ä-latin1" };
        var random = new Random(1234);
        for (var round = 0; round < 500; round++)
        {
            var count = random.Next(0, 45); // past the direct path's limit too
            var headers = Enumerable.Range(0, count)
                .Select(i => new HeaderEntry(names[random.Next(names.Length)], Value(random, i)))
                .ToArray();
            await Assert.That(Direct(headers)).IsEqualTo(ViaMap(headers));
            await Assert.That(Direct(headers, Relaxed)).IsEqualTo(ViaMap(headers, Relaxed));
            await Assert.That(Direct(headers, new JsonWriterOptions { Indented = true })).IsEqualTo(ViaMap(headers, new JsonWriterOptions { Indented = true }));
        }
    }

    [Test]
    public async Task Plain_characters_are_left_as_they_are_by_every_encoder_and_the_others_are_escaped_by_one()
    {
        for (var c = (char)0x20; c < 0x7f; c++)
        {
            var text = c.ToString();
            var unchanged = JsonEncodedText.Encode(text).Value == text
                && JsonEncodedText.Encode(text, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value == text;
            await Assert.That(ResponseHeaders.IsPlain(text)).IsEqualTo(unchanged);
        }
        // The relaxed encoder (the envelope's) leaves all printable ASCII but the quote and backslash, written \" and \\.
        for (var c = (char)0x20; c < 0x7f; c++)
        {
            var expected = c is '"' or '\\' ? "\\" + c : c.ToString();
            await Assert.That(JsonEncodedText.Encode(c.ToString(), System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value).IsEqualTo(expected);
        }
        await Assert.That(ResponseHeaders.IsPlain("caf\u00e9")).IsFalse();
        await Assert.That(ResponseHeaders.IsPlain("a\tb")).IsFalse();
    }

    [Test]
    public async Task Plain_headers_are_laid_out_as_the_writer_would()
    {
        var headers = H("Server", "nginx/1.22.1", "Date", "Tue, 01 Dec 2026 11:00:00 GMT", "Content-Type", "application/octet-stream",
            "Content-Length", "1024", "Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT", "Connection", "keep-alive",
            "Accept-Ranges", "bytes", "vary", "a", "Vary", "b", "Set-Cookie", "x=1; Path=/", "ETag", "\"6929a1b0-400\"",
            "X-Path", "C:\\tmp\\\"q\"");
        var json = Direct(headers, Relaxed);
        await Assert.That(json).IsEqualTo(ViaMap(headers, Relaxed));
        await Assert.That(json).Contains("\"vary\":\"a, b\"");
        await Assert.That(json).Contains("\"etag\":\"\\\"6929a1b0-400\\\"\"");
        await Assert.That(Direct(headers)).IsEqualTo(ViaMap(headers));
        await Assert.That(Raw(headers, direct: true)).IsEqualTo(Raw(headers, direct: false));
        await Assert.That(Raw(headers, direct: true)).Contains("{\"name\":\"Set-Cookie\",\"value\":\"x=1; Path=/\"}");
    }

    /// <summary>Printable ASCII with quotes and backslashes, and now and then Latin-1 text, a control character or a long value.</summary>
    private static string Value(Random random, int i) => random.Next(10) switch
    {
        0 => $"v{i}\u00e9\u00ff",
        1 => $"v{i}\u0001\t",
        2 => new string('x', random.Next(600, 1100)) + i,
        3 => $"v{i}\"\\",
        _ => $"v{i} {(char)random.Next(0x20, 0x7f)}", // mostly plain; now and then a character an encoder escapes
    };

    private static string Raw(IReadOnlyList<HeaderEntry> headers, bool direct)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Relaxed))
        {
            w.WriteStartObject();
            if (direct)
            {
                ResponseHeaders.WriteRaw(w, "raw_headers", headers);
            }
            else
            {
                w.WriteStartArray("raw_headers");
                foreach (var h in headers)
                {
                    w.WriteStartObject();
                    w.WriteString("name", h.Name);
                    w.WriteString("value", h.Value);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Test]
    public async Task Raw_headers_are_written_as_their_text_whatever_it_holds()
    {
        var random = new Random(99);
        for (var round = 0; round < 200; round++)
        {
            var headers = Enumerable.Range(0, random.Next(0, 12))
                .Select(i => new HeaderEntry(i % 5 == 4 ? "\u00c4-Latin1" : $"X-Name-{i}", Value(random, i)))
                .ToArray();
            await Assert.That(Raw(headers, direct: true)).IsEqualTo(Raw(headers, direct: false));
        }
        await Assert.That(Raw([new("Server", "nginx"), new("X-Q", "a\"b")], direct: true))
            .IsEqualTo("""{"raw_headers":[{"name":"Server","value":"nginx"},{"name":"X-Q","value":"a\"b"}]}""");
    }

    [Test]
    public async Task Names_too_long_for_the_stack_buffer_give_the_same_object_as_the_map()
    {
        var headers = Enumerable.Range(0, 20).Select(i => new HeaderEntry($"X-{new string('N', 150)}-{i % 7}", $"v{i}")).ToArray();
        await Assert.That(Direct(headers)).IsEqualTo(ViaMap(headers));
    }

    [Test]
    public async Task An_empty_list_is_an_empty_object()
    {
        await Assert.That(Direct([])).IsEqualTo("""{"headers":{}}""");
    }

    [Test]
    [Arguments("Connection")] [Arguments("keep-alive")] [Arguments("PROXY-CONNECTION")] [Arguments("Transfer-Encoding")]
    [Arguments("TE")] [Arguments("Trailer")] [Arguments("upgrade")] [Arguments("Proxy-Authenticate")] [Arguments("proxy-authorization")]
    public async Task Hop_by_hop_names_match_in_any_case(string name)
    {
        await Assert.That(ResponseHeaders.IsHopByHop(name)).IsTrue();
    }

    [Test]
    [Arguments("Content-Length")] [Arguments("Trailers")] [Arguments("TE2")] [Arguments("Upgrade-Insecure-Requests")] [Arguments("")]
    [Arguments("Keep-Alive-X")] [Arguments("Connectio")] [Arguments("content-type")]
    public async Task Other_names_are_not_hop_by_hop(string name)
    {
        await Assert.That(ResponseHeaders.IsHopByHop(name)).IsFalse();
    }
}
