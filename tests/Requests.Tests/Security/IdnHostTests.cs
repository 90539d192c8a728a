// IdnHost: only a non-ASCII host is rewritten (to punycode, lowercased); scheme, userinfo, port, path,
// query and fragment stay as given, and anything IDNA refuses is left for the guard to judge.
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Tests.Security;

public class IdnHostTests
{
    [Test]
    [Arguments("http://bücher.example/", "http://xn--bcher-kva.example/")]
    [Arguments("https://BÜCHER.example:8443/a/ü?q=ü#ü", "https://xn--bcher-kva.example:8443/a/ü?q=ü#ü")]
    [Arguments("http://user:pä@bücher.example", "http://user:pä@xn--bcher-kva.example")]
    [Arguments("http://例え.テスト/", "http://xn--r8jz45g.xn--zckzah/")]
    public async Task Non_ascii_hosts_become_punycode(string url, string expected)
    {
        await Assert.That(IdnHost.ToAsciiUrl(url)).IsEqualTo(expected);
    }

    [Test]
    [Arguments("http://example.com/ü")]
    [Arguments("http://us€r@example.com/")]
    [Arguments("http://[::1]:80/ü")]
    [Arguments("not a url ü")]
    [Arguments("http://xn--bcher-kva.example/")]
    public async Task Other_urls_are_returned_unchanged(string url)
    {
        await Assert.That(ReferenceEquals(IdnHost.ToAsciiUrl(url), url)).IsTrue();
    }
}
