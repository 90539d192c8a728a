// Response header names: a name that matches a known spelling byte for byte shares the known string; anything
// else (other casing, unknown names, obs-text bytes) is decoded byte for byte as before.
using System.Text;
using HoodyCurl.Requests.Engine;

namespace HoodyCurl.Requests.Tests.Engine;

public class HeaderNameTests
{
    [Test]
    [Arguments("Content-Type")]
    [Arguments("content-length")]
    [Arguments("ETag")]
    [Arguments("Server")]
    public async Task A_known_spelling_is_shared(string name)
    {
        var first = Transfer.HeaderName(Encoding.ASCII.GetBytes(name));
        var second = Transfer.HeaderName(Encoding.ASCII.GetBytes(name));
        await Assert.That(first).IsEqualTo(name);
        await Assert.That(ReferenceEquals(first, second)).IsTrue();
    }

    [Test]
    [Arguments("CONTENT-TYPE")]
    [Arguments("Content-Typf")]
    [Arguments("X-Custom")]
    [Arguments("Etag")]
    [Arguments("Dat")]
    [Arguments("Dates")]
    public async Task Any_other_name_is_decoded_as_sent(string name)
    {
        var decoded = Transfer.HeaderName(Encoding.ASCII.GetBytes(name));
        await Assert.That(decoded).IsEqualTo(name);
        await Assert.That(ReferenceEquals(decoded, Transfer.HeaderName(Encoding.ASCII.GetBytes(name)))).IsFalse();
    }

    [Test]
    public async Task Bytes_above_ascii_stay_one_char_per_byte()
    {
        byte[] name = [(byte)'X', 0xE9, (byte)'-', 0xFF];
        await Assert.That(Transfer.HeaderName(name)).IsEqualTo("X\u00E9-\u00FF");
        await Assert.That(Transfer.HeaderName([])).IsEqualTo("");
    }

    [Test]
    public async Task A_known_names_value_equal_to_the_last_one_shares_its_string_and_any_other_value_is_decoded()
    {
        var cache = new HeaderValueCache();
        var date = Transfer.KnownIndex("Date"u8);
        var server = Transfer.KnownIndex("Server"u8);
        await Assert.That(date).IsGreaterThanOrEqualTo(0);
        var first = cache.Get(date, "Tue, 01 Dec 2026 23:59:59 GMT"u8);
        var again = cache.Get(date, "Tue, 01 Dec 2026 23:59:59 GMT"u8);
        await Assert.That(again).IsEqualTo("Tue, 01 Dec 2026 23:59:59 GMT");
        await Assert.That(ReferenceEquals(first, again)).IsTrue();
        // Another name's slot is its own, a changed value is decoded (and kept), and the text is always the bytes'.
        await Assert.That(cache.Get(server, "Tue, 01 Dec 2026 23:59:59 GMT"u8)).IsEqualTo("Tue, 01 Dec 2026 23:59:59 GMT");
        var next = cache.Get(date, "Wed, 02 Dec 2026 00:00:00 GMT"u8);
        await Assert.That(next).IsEqualTo("Wed, 02 Dec 2026 00:00:00 GMT");
        await Assert.That(ReferenceEquals(next, cache.Get(date, "Wed, 02 Dec 2026 00:00:00 GMT"u8))).IsTrue();
        await Assert.That(cache.Get(date, "Tue, 01 Dec 2026 23:59:59 GMT"u8)).IsEqualTo("Tue, 01 Dec 2026 23:59:59 GMT");
        await Assert.That(cache.Get(date, "Tue, 01 Dec 2026 23:59:5"u8)).IsEqualTo("Tue, 01 Dec 2026 23:59:5");
        await Assert.That(cache.Get(date, ""u8)).IsEqualTo("");
        // obs-text stays one char per byte, and is never mistaken for an ASCII value of the same length.
        byte[] latin = [(byte)'a', 0xE9, (byte)'b'];
        await Assert.That(cache.Get(server, latin)).IsEqualTo("a\u00E9b");
        await Assert.That(cache.Get(server, "a?b"u8)).IsEqualTo("a?b");
        await Assert.That(cache.Get(server, latin)).IsEqualTo("a\u00E9b");
    }

    [Test]
    public async Task A_cookie_or_a_value_longer_than_the_cache_keeps_is_decoded_every_time()
    {
        var cache = new HeaderValueCache();
        var cookie = Transfer.KnownIndex("Set-Cookie"u8);
        // A cookie is never kept, however short.
        var session = cache.Get(cookie, "sid=1"u8);
        await Assert.That(session).IsEqualTo("sid=1");
        await Assert.That(ReferenceEquals(session, cache.Get(cookie, "sid=1"u8))).IsFalse();
        var etag = Transfer.KnownIndex("ETag"u8);
        var value = Encoding.ASCII.GetBytes("\"" + new string('x', HeaderValueCache.MaxCachedLength) + "\"");
        var first = cache.Get(etag, value);
        var second = cache.Get(etag, value);
        await Assert.That(second).IsEqualTo(Encoding.ASCII.GetString(value));
        await Assert.That(ReferenceEquals(first, second)).IsFalse();
        // Random values against a model: whatever the sequence, the text is the bytes'.
        var random = new Random(77);
        string[] pool = ["nginx", "nginx/1.22.1", "bytes", "keep-alive", "text/html", "text/html; charset=utf-8", "", "\"etag\""];
        for (var i = 0; i < 2000; i++)
        {
            var text = random.Next(10) == 0 ? new string((char)random.Next('a', 'z'), random.Next(0, 200)) : pool[random.Next(pool.Length)];
            var name = random.Next(Transfer.KnownNames.Length);
            await Assert.That(cache.Get(name, Encoding.Latin1.GetBytes(text))).IsEqualTo(text);
        }
    }
}
