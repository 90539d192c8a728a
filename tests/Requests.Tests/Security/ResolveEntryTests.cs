using System.Net;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Tests.Security;

public class ResolveEntryTests
{
    [Test]
    [Arguments("example.com:443:1.2.3.4", "example.com", 443, "1.2.3.4", "example.com:443:1.2.3.4")]
    [Arguments("Example.COM:80:[2001:db8::1]", "example.com", 80, "2001:db8::1", "example.com:80:[2001:db8::1]")]
    [Arguments("example.com:80:2001:db8::1", "example.com", 80, "2001:db8::1", "example.com:80:[2001:db8::1]")]
    [Arguments("a-b_c.test.:65535:127.0.0.2", "a-b_c.test.", 65535, "127.0.0.2", "a-b_c.test.:65535:127.0.0.2")]
    public async Task Parses_curl_resolve_entries(string text, string host, int port, string address, string curl)
    {
        bool ok = ResolveEntry.TryParse(text, out ResolveEntry? entry, out string? error);

        await Assert.That(ok).IsTrue();
        await Assert.That(error).IsNull();
        await Assert.That(entry!.Host).IsEqualTo(host);
        await Assert.That(entry.Port).IsEqualTo(port);
        await Assert.That(entry.Address).IsEqualTo(IPAddress.Parse(address));
        await Assert.That(entry.ToCurlFormat()).IsEqualTo(curl);
    }

    [Test]
    [Arguments("")]
    [Arguments("example.com")]
    [Arguments("example.com:443")]
    [Arguments(":80:1.2.3.4")]
    [Arguments("example.com::1.2.3.4")]
    [Arguments("example.com:0:1.2.3.4")]
    [Arguments("example.com:65536:1.2.3.4")]
    [Arguments("example.com:http:1.2.3.4")]
    [Arguments("example.com:80:")]
    [Arguments("example.com:80:notanip")]
    [Arguments("example.com:80:127.1")]
    [Arguments("example.com:80:1.2.3.4,1.2.3.5")]
    [Arguments("example.com:80:[1.2.3.4]")]
    [Arguments("example.com:80:fe80::1%eth0")]
    [Arguments("exa mple.com:80:1.2.3.4")]
    [Arguments("*:80:1.2.3.4")]
    public async Task Rejects_malformed_entries(string text)
    {
        bool ok = ResolveEntry.TryParse(text, out ResolveEntry? entry, out string? error);

        await Assert.That(ok).IsFalse();
        await Assert.That(entry).IsNull();
        await Assert.That(error).IsNotNull();
    }
}
