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
}
