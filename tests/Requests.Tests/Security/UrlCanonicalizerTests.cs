using System.Net;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Tests.Security;

public class UrlCanonicalizerTests
{
    [Test]
    [Arguments("http://127.0.0.1/", "127.0.0.1")]
    [Arguments("http://127.1/", "127.0.0.1")]
    [Arguments("http://127.0.1/", "127.0.0.1")]
    [Arguments("http://2130706433/", "127.0.0.1")]
    [Arguments("http://0x7f000001/", "127.0.0.1")]
    [Arguments("http://0X7F000001/", "127.0.0.1")]
    [Arguments("http://0x7f.1/", "127.0.0.1")]
    [Arguments("http://0x7f.0x0.0x0.0x1/", "127.0.0.1")]
    [Arguments("http://017700000001/", "127.0.0.1")]
    [Arguments("http://0177.0.0.1/", "127.0.0.1")]
    [Arguments("http://0177.0x0.1/", "127.0.0.1")]
    [Arguments("http://000000177.0.0.01/", "127.0.0.1")]
    [Arguments("http://127.0.0.1./", "127.0.0.1")]
    [Arguments("http://%31%32%37.0.0.1/", "127.0.0.1")]
    [Arguments("http://%30x7f.1/", "127.0.0.1")]
    [Arguments("http://\uFF11\uFF12\uFF17\uFF0E\uFF10\uFF0E\uFF10\uFF0E\uFF11/", "127.0.0.1")]
    [Arguments("http://127\u30020.0.1/", "127.0.0.1")]
    [Arguments("http://0/", "0.0.0.0")]
    [Arguments("http://0.0.0.0/", "0.0.0.0")]
    [Arguments("http://4294967295/", "255.255.255.255")]
    [Arguments("http://0xffffffff/", "255.255.255.255")]
    [Arguments("http://1.0x10000/", "1.1.0.0")]
    [Arguments("http://user:pass@127.1:8080/x", "127.0.0.1")]
    [Arguments("http://[::1]/", "::1")]
    [Arguments("http://[::]/", "::")]
    [Arguments("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1")]
    [Arguments("http://[::FFFF:7F00:1]/", "::ffff:127.0.0.1")]
    [Arguments("http://[0:0:0:0:0:0:0:1]:8080/", "::1")]
    [Arguments("http://[64:ff9b::127.0.0.2]/", "64:ff9b::7f00:2")]
    public async Task Recognises_every_ip_literal_spelling(string url, string expected)
    {
        bool ok = UrlCanonicalizer.TryParse(url, out CanonicalUrl? canonical, out string? error);

        await Assert.That(error).IsNull();
        await Assert.That(ok).IsTrue();
        await Assert.That(canonical!.LiteralAddress).IsEqualTo(IPAddress.Parse(expected));
        await Assert.That(canonical.Host).IsEqualTo(IPAddress.Parse(expected).ToString());
    }

    [Test]
    [Arguments("HTTP://User:Secret@EXAMPLE.com:8080/a/b?c=d#frag", "http", "example.com", 8080, "http://example.com:8080/a/b?c=d")]
    [Arguments("https://example.com", "https", "example.com", 443, "https://example.com/")]
    [Arguments("https://example.com:443/x", "https", "example.com", 443, "https://example.com/x")]
    [Arguments("http://example.com:/x", "http", "example.com", 80, "http://example.com/x")]
    [Arguments("http://example.com?q=1", "http", "example.com", 80, "http://example.com/?q=1")]
    [Arguments("http://example.com#f", "http", "example.com", 80, "http://example.com/")]
    [Arguments("http://127.1:81/p", "http", "127.0.0.1", 81, "http://127.0.0.1:81/p")]
    [Arguments("http://[::FFFF:127.0.0.1]:443/", "http", "::ffff:127.0.0.1", 443, "http://[::ffff:127.0.0.1]:443/")]
    [Arguments("http://B\u00DCcher.de/", "http", "b\u00DCcher.de", 80, "http://b\u00DCcher.de/")]
    [Arguments("http://\uFF4C\uFF4F\uFF43\uFF41\uFF4C\uFF48\uFF4F\uFF53\uFF54/", "http", "localhost", 80, "http://localhost/")]
    [Arguments("http://foo.0x1g/", "http", "foo.0x1g", 80, "http://foo.0x1g/")]
    [Arguments("http://1.2.3.4.example/", "http", "1.2.3.4.example", 80, "http://1.2.3.4.example/")]
    [Arguments("http://ex%41mple.com/", "http", "example.com", 80, "http://example.com/")]
    [Arguments("http://example.com:00080/", "http", "example.com", 80, "http://example.com/")]
    public async Task Canonicalises_scheme_host_port_and_strips_userinfo(
        string url, string scheme, string host, int port, string normalized)
    {
        bool ok = UrlCanonicalizer.TryParse(url, out CanonicalUrl? canonical, out string? error);

        await Assert.That(error).IsNull();
        await Assert.That(ok).IsTrue();
        await Assert.That(canonical!.Scheme).IsEqualTo(scheme);
        await Assert.That(canonical.Host).IsEqualTo(host);
        await Assert.That(canonical.Port).IsEqualTo(port);
        await Assert.That(canonical.Normalized).IsEqualTo(normalized);
        await Assert.That(canonical.Normalized.Contains("Secret", StringComparison.Ordinal)).IsFalse();
    }

    [Test]
    [Arguments("")]
    [Arguments("example.com")]
    [Arguments("//example.com/")]
    [Arguments("1http://example.com/")]
    [Arguments("http:example.com")]
    [Arguments("http:/example.com")]
    [Arguments("http://")]
    [Arguments("http:///x")]
    [Arguments("http://:80/")]
    [Arguments("http://user@/")]
    [Arguments("http://exa mple.com/")]
    [Arguments("http://example.com/a b")]
    [Arguments("http://a\u0000b/")]
    [Arguments("http://a\tb/")]
    [Arguments("http://a\u0085b/")]
    [Arguments("http://a\u3000b/")]
    [Arguments("http://example.com:0/")]
    [Arguments("http://example.com:65536/")]
    [Arguments("http://example.com:99999999999999999999/")]
    [Arguments("http://example.com:8a/")]
    [Arguments("http://example.com:-1/")]
    [Arguments("http://a:b:c/")]
    [Arguments("http://[::1%25eth0]/")]
    [Arguments("http://[fe80::1%eth0]/")]
    [Arguments("http://[1.2.3.4]/")]
    [Arguments("http://[::1/")]
    [Arguments("http://[::1]x/")]
    [Arguments("http://[v1.abc]/")]
    [Arguments("http://a@b@127.0.0.1/")]
    [Arguments("http://evil.com\\@127.0.0.1/")]
    [Arguments("http://256.0.0.1/")]
    [Arguments("http://1.2.3.4.5/")]
    [Arguments("http://1.256.0.0.0/")]
    [Arguments("http://0x100000000/")]
    [Arguments("http://4294967296/")]
    [Arguments("http://08.0.0.1/")]
    [Arguments("http://1..2/")]
    [Arguments("http://foo.123/")]
    [Arguments("http://foo.0x10/")]
    [Arguments("http://%zz/")]
    [Arguments("http://%4/")]
    [Arguments("http://%00/")]
    [Arguments("http://x%2fy/")]
    [Arguments("http://%ff/")]
    [Arguments("http://a$b/")]
    [Arguments("http://a_b\uFF0F/")]
    [Arguments("http://\uD800x/")]
    public async Task Rejects_malformed_urls(string url)
    {
        bool ok = UrlCanonicalizer.TryParse(url, out CanonicalUrl? canonical, out string? error);

        await Assert.That(ok).IsFalse();
        await Assert.That(canonical).IsNull();
        await Assert.That(error).IsNotNull();
    }

    [Test]
    public async Task Rejects_overlong_urls()
    {
        string atLimit = "http://example.com/" + new string('a', UrlCanonicalizer.MaxLength - 19);
        string overLimit = atLimit + "a";

        await Assert.That(atLimit.Length).IsEqualTo(UrlCanonicalizer.MaxLength);
        await Assert.That(UrlCanonicalizer.TryParse(atLimit, out _, out _)).IsTrue();
        await Assert.That(UrlCanonicalizer.TryParse(overLimit, out _, out string? error)).IsFalse();
        await Assert.That(error).Contains("longer");
    }

    [Test]
    [Arguments("http://x/", true, "http")]
    [Arguments("HTTPS://x/", true, "https")]
    [Arguments("file:///etc/passwd", true, "file")]
    [Arguments("git+ssh://x/", true, "git+ssh")]
    [Arguments("://x/", false, "")]
    [Arguments("no-colon", false, "")]
    [Arguments("9http://x/", false, "")]
    public async Task Reads_the_scheme(string url, bool expected, string scheme)
    {
        bool ok = UrlCanonicalizer.TryGetScheme(url, out string actual);

        await Assert.That(ok).IsEqualTo(expected);
        await Assert.That(actual).IsEqualTo(scheme);
    }
}
