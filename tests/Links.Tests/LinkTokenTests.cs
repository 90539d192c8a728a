// The link secret: 128 random bits, unpadded URL-safe base64, one spelling per value, SHA-256 stored,
// constant-time comparison.
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace HoodyCurl.Links.Tests;

public class LinkTokenTests
{
    [Test]
    public async Task A_new_token_is_22_url_safe_characters_carrying_16_random_bytes()
    {
        var tokens = Enumerable.Range(0, 2000).Select(_ => LinkToken.New()).ToList();
        await Assert.That(tokens.Distinct().Count()).IsEqualTo(tokens.Count);
        foreach (var token in tokens)
        {
            await Assert.That(token.Length).IsEqualTo(22);
            await Assert.That(token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')).IsTrue();
            await Assert.That(Base64Url.DecodeFromChars(token).Length).IsEqualTo(16);
            await Assert.That(LinkToken.IsWellFormed(token)).IsTrue();
        }
        // Every one of the 128 bits varies across tokens (none is fixed by the encoding).
        var or = new byte[16];
        var and = Enumerable.Repeat((byte)0xff, 16).ToArray();
        foreach (var bytes in tokens.Select(t => Base64Url.DecodeFromChars(t)))
            for (var i = 0; i < 16; i++) { or[i] |= bytes[i]; and[i] &= bytes[i]; }
        await Assert.That(or.All(b => b == 0xff)).IsTrue();
        await Assert.That(and.All(b => b == 0)).IsTrue();
    }

    [Test]
    [Arguments("")]
    [Arguments("AAAAAAAAAAAAAAAAAAAAA")]      // 21 characters
    [Arguments("AAAAAAAAAAAAAAAAAAAAAAA")]    // 23 characters
    [Arguments("AAAAAAAAAAAAAAAAAAAA+A")]     // standard base64 alphabet
    [Arguments("AAAAAAAAAAAAAAAAAAAA/A")]
    [Arguments("AAAAAAAAAAAAAAAAAAAA==")]     // padding
    [Arguments("AAAAAAAAAAAAAAAAAAAAAB")]     // non-canonical: the last 4 bits are not zero
    [Arguments("AAAAAAAAAAAAAAAAAAAA%41")]
    [Arguments("AAAAAAAAAAAAAAAAAAAA A")]
    [Arguments("../../../../etc/passwd")]
    public async Task Anything_but_the_canonical_spelling_is_not_a_token(string text)
    {
        await Assert.That(LinkToken.IsWellFormed(text)).IsFalse();
    }

    [Test]
    public async Task The_stored_hash_is_the_sha256_of_the_token_and_matches_only_that_token()
    {
        var token = LinkToken.New();
        var hash = LinkToken.Hash(token);
        await Assert.That(hash).IsEquivalentTo(SHA256.HashData(Encoding.ASCII.GetBytes(token)));
        await Assert.That(LinkToken.Matches(hash, token)).IsTrue();
        for (var i = 0; i < token.Length; i++)
        {
            var chars = token.ToCharArray();
            chars[i] = chars[i] == 'A' ? 'B' : 'A';
            await Assert.That(LinkToken.Matches(hash, new string(chars))).IsFalse();
        }
        await Assert.That(LinkToken.Matches(hash[..31], token)).IsFalse();
    }
}
