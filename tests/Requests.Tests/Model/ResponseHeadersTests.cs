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
    private static string Direct(IReadOnlyList<HeaderEntry> headers)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            ResponseHeaders.WriteMap(w, "headers", headers);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string ViaMap(IReadOnlyList<HeaderEntry> headers)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
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
                .Select(i => new HeaderEntry(names[random.Next(names.Length)], $"v{i}\"\\{(char)random.Next(0x20, 0x7f)}"))
                .ToArray();
            await Assert.That(Direct(headers)).IsEqualTo(ViaMap(headers));
        }
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
