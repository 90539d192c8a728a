using System.Net;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Tests.Security;

/// <summary>The acceptance table of issue 3: the sidecar runs with <c>--allow-cidr 127.0.0.1/32</c> in tests.</summary>
public class SsrfGuardUrlTests
{
    private static readonly SsrfGuard Guard = new(new SsrfOptions { AllowCidrs = ["127.0.0.1/32"] });

    [Test]
    [Arguments("http://127.0.0.2/", "loopback")]
    [Arguments("http://127.2/", "loopback")]
    [Arguments("http://127.0.2/", "loopback")]
    [Arguments("http://2130706434/", "loopback")]
    [Arguments("http://0x7f000002/", "loopback")]
    [Arguments("http://0x7f.2/", "loopback")]
    [Arguments("http://017700000002/", "loopback")]
    [Arguments("http://0177.0.0.2/", "loopback")]
    [Arguments("http://127.0.0.2./", "loopback")]
    [Arguments("http://%31%32%37.0.0.2/", "loopback")]
    [Arguments("http://\uFF11\uFF12\uFF17\uFF0E\uFF10\uFF0E\uFF10\uFF0E\uFF12/", "loopback")]
    [Arguments("http://user:pw@127.0.0.2:8080/x", "loopback")]
    [Arguments("http://[::1]/", "loopback")]
    [Arguments("http://[::ffff:127.0.0.2]/", "loopback")]
    [Arguments("http://[::]/", "unspecified")]
    [Arguments("http://0.0.0.0/", "unspecified")]
    [Arguments("http://0/", "unspecified")]
    [Arguments("http://10.0.0.1/", "private")]
    [Arguments("http://172.16.0.1/", "private")]
    [Arguments("http://192.168.1.1/", "private")]
    [Arguments("http://100.64.0.1/", "cgnat")]
    [Arguments("http://169.254.169.254/", "metadata")]
    [Arguments("http://0xa9fea9fe/", "metadata")]
    [Arguments("http://100.100.100.200/", "metadata")]
    [Arguments("http://169.254.1.1/", "link_local")]
    [Arguments("http://224.0.0.1/", "multicast")]
    [Arguments("http://255.255.255.255/", "broadcast")]
    [Arguments("http://240.0.0.1/", "reserved")]
    [Arguments("http://192.0.2.1/", "reserved")]
    [Arguments("http://198.18.0.1/", "reserved")]
    [Arguments("http://[fd00::1]/", "unique_local")]
    [Arguments("http://[fd00:ec2::254]/", "metadata")]
    [Arguments("http://[fe80::1]/", "ipv6_link_local")]
    [Arguments("http://[fec0::1]/", "site_local")]
    [Arguments("http://[ff02::1]/", "multicast")]
    [Arguments("http://[2001:db8::1]/", "reserved")]
    [Arguments("http://[100::1]/", "reserved")]
    [Arguments("http://[64:ff9b::7f00:2]/", "ipv4_embedded:loopback")]
    [Arguments("http://[64:ff9b::127.0.0.2]/", "ipv4_embedded:loopback")]
    [Arguments("http://[64:ff9b:1::7f00:2]/", "ipv4_embedded:loopback")]
    [Arguments("http://[2002:7f00:2::]/", "ipv4_embedded:loopback")]
    [Arguments("http://[::127.0.0.2]/", "ipv4_embedded:loopback")]
    [Arguments("http://[::ffff:0:127.0.0.2]/", "ipv4_embedded:loopback")]
    [Arguments("http://[2001:0:4136:e378:8000:63bf:80ff:fffd]/", "ipv4_embedded:loopback")]
    [Arguments("file:///etc/passwd", "scheme")]
    [Arguments("FILE:///etc/passwd", "scheme")]
    [Arguments("gopher://x/", "scheme")]
    [Arguments("dict://x/", "scheme")]
    [Arguments("ftp://x/", "scheme")]
    [Arguments("ws://x/", "scheme")]
    [Arguments("example.com/path", "invalid_url")]
    [Arguments("http://[::1%25lo]/", "invalid_url")]
    [Arguments("http://256.0.0.1/", "invalid_url")]
    [Arguments("http://evil.com\\@127.0.0.2/", "invalid_url")]
    public async Task Denies_every_spelling_of_a_blocked_destination(string url, string rule)
    {
        SsrfVerdict verdict = Guard.CheckUrl(url, out _);

        await Assert.That(verdict.Allowed).IsFalse();
        await Assert.That(verdict.Rule).IsEqualTo(rule);
    }

    [Test]
    [Arguments("http://93.184.216.34/", "allowed")]
    [Arguments("http://1572395042/", "allowed")]
    [Arguments("http://[2606:4700::1]/", "allowed")]
    [Arguments("http://example.com/", "allowed")]
    [Arguments("https://example.com:8443/a?b", "allowed")]
    [Arguments("http://[64:ff9b::5db8:d822]/", "allowed")]
    [Arguments("http://127.0.0.1/", "allow_cidr")]
    [Arguments("http://127.1/", "allow_cidr")]
    [Arguments("http://0x7f000001:9000/", "allow_cidr")]
    [Arguments("http://[::ffff:127.0.0.1]/", "allow_cidr")]
    public async Task Allows_public_destinations_and_the_allowed_cidr(string url, string rule)
    {
        SsrfVerdict verdict = Guard.CheckUrl(url, out CanonicalUrl? canonical);

        await Assert.That(verdict.Allowed).IsTrue();
        await Assert.That(verdict.Rule).IsEqualTo(rule);
        await Assert.That(canonical).IsNotNull();
    }

    [Test]
    public async Task Short_ipv4_form_canonicalises_to_the_allowed_address()
    {
        SsrfVerdict verdict = Guard.CheckUrl("http://127.1/", out CanonicalUrl? canonical);

        await Assert.That(canonical!.LiteralAddress).IsEqualTo(IPAddress.Parse("127.0.0.1"));
        await Assert.That(canonical.Normalized).IsEqualTo("http://127.0.0.1/");
        await Assert.That(verdict.Rule).IsEqualTo(SsrfRules.AllowCidr);
    }

    [Test]
    [Arguments("http://127.0.0.1:8080/", false, "own_address")]
    [Arguments("http://127.1:8080/", false, "own_address")]
    [Arguments("http://[::ffff:127.0.0.1]:8080/", false, "own_address")]
    [Arguments("http://0.0.0.0:8080/", false, "own_address")]
    [Arguments("http://127.0.0.1:8081/", true, "allow_cidr")]
    [Arguments("http://127.0.0.1/", true, "allow_cidr")]
    [Arguments("http://127.0.0.1:9090/", false, "own_address")]
    [Arguments("http://127.0.0.7:9090/", false, "own_address")]
    [Arguments("http://[::1]:9090/", false, "own_address")]
    [Arguments("http://[::]:9090/", false, "own_address")]
    [Arguments("http://93.184.216.34:9090/", true, "allowed")]
    [Arguments("http://127.0.0.1:9091/", true, "allow_cidr")]
    public async Task Denies_the_sidecars_own_listen_endpoints_even_when_allowed(string url, bool allowed, string rule)
    {
        var guard = new SsrfGuard(new SsrfOptions
        {
            AllowCidrs = ["127.0.0.1/32"],
            OwnEndpoints = [new IPEndPoint(IPAddress.Loopback, 8080), new IPEndPoint(IPAddress.Any, 9090)],
        });

        SsrfVerdict verdict = guard.CheckUrl(url, out _);

        await Assert.That(verdict.Allowed).IsEqualTo(allowed);
        await Assert.That(verdict.Rule).IsEqualTo(rule);
    }

    // Issue 15: a localhost name is judged as the loopback addresses it stands for (RFC 6761), under the
    // same allow/deny rules as those addresses: denied by default, allowed when --allow-cidr covers one.
    [Test]
    [Arguments("http://localhost:1234/")]
    [Arguments("http://LOCALHOST./")]
    [Arguments("http://api.localhost/")]
    [Arguments("http://\uFF4C\uFF4F\uFF43\uFF41\uFF4C\uFF48\uFF4F\uFF53\uFF54/")]
    public async Task Localhost_names_are_judged_as_their_loopback_addresses(string url)
    {
        SsrfVerdict strict = new SsrfGuard(new SsrfOptions()).CheckUrl(url, out _);
        SsrfVerdict otherLoopback = new SsrfGuard(new SsrfOptions { AllowCidrs = ["127.0.0.2/32"] }).CheckUrl(url, out _);
        SsrfVerdict denied = new SsrfGuard(new SsrfOptions { AllowCidrs = ["127.0.0.0/8"], DenyCidrs = ["127.0.0.1/32"] }).CheckUrl(url, out _);
        SsrfVerdict v4 = Guard.CheckUrl(url, out _);
        SsrfVerdict v6 = new SsrfGuard(new SsrfOptions { AllowCidrs = ["::1/128"] }).CheckUrl(url, out _);

        await Assert.That(strict).IsEqualTo(new SsrfVerdict(false, "loopback", null) { Detail = strict.Detail });
        await Assert.That(otherLoopback.Allowed).IsFalse();
        await Assert.That(otherLoopback.Rule).IsEqualTo("loopback");
        await Assert.That(denied.Allowed).IsFalse();
        await Assert.That(denied.Rule).IsEqualTo("deny_cidr");
        await Assert.That(v4.Allowed).IsTrue();
        await Assert.That(v4.Rule).IsEqualTo("allow_cidr");
        await Assert.That(v6.Allowed).IsTrue();
    }

    [Test]
    [Arguments("http://evil.test/", false, "loopback")]
    [Arguments("http://EVIL.test./x", false, "loopback")]
    [Arguments("http://evil.test:8080/", true, "allowed")]
    [Arguments("http://ok.test/", true, "allow_cidr")]
    [Arguments("http://meta.test/", false, "metadata")]
    [Arguments("http://v6.test:443/", false, "ipv4_embedded:loopback")]
    [Arguments("https://v6.test/", false, "ipv4_embedded:loopback")]
    [Arguments("http://localhost/", true, "allowed")]
    public async Task Resolve_overrides_are_checked_at_their_address(string url, bool allowed, string rule)
    {
        var guard = new SsrfGuard(new SsrfOptions
        {
            AllowCidrs = ["127.0.0.1/32"],
            Resolve =
            [
                "evil.test:80:127.0.0.2",
                "ok.test:80:127.0.0.1",
                "meta.test:80:169.254.169.254",
                "v6.test:443:[64:ff9b::7f00:2]",
                "localhost:80:93.184.216.34",
            ],
        });

        SsrfVerdict verdict = guard.CheckUrl(url, out _);

        await Assert.That(verdict.Allowed).IsEqualTo(allowed);
        await Assert.That(verdict.Rule).IsEqualTo(rule);
        await Assert.That(guard.ResolveEntries.Count).IsEqualTo(5);
        await Assert.That(guard.ResolveEntries[3].ToCurlFormat()).IsEqualTo("v6.test:443:[64:ff9b::7f00:2]");
    }

    [Test]
    public async Task Denial_messages_name_the_address_and_the_rule()
    {
        SsrfVerdict loopback = Guard.CheckUrl("http://0x7f.2/", out _);
        SsrfVerdict embedded = Guard.CheckUrl("http://[64:ff9b::7f00:2]/", out _);
        SsrfVerdict scheme = Guard.CheckUrl("gopher://x/", out CanonicalUrl? schemeCanonical);
        SsrfVerdict invalid = Guard.CheckUrl("http://exa mple/", out CanonicalUrl? invalidCanonical);

        await Assert.That(loopback).IsEqualTo(new SsrfVerdict(false, "loopback", "127.0.0.2"));
        await Assert.That(loopback.Describe()).IsEqualTo("address 127.0.0.2 is blocked by rule loopback");
        await Assert.That(embedded.Describe())
            .IsEqualTo("address 64:ff9b::7f00:2 is blocked by rule ipv4_embedded:loopback (embedded IPv4 127.0.0.2)");
        await Assert.That(scheme.Describe()).IsEqualTo("URL is blocked by rule scheme (scheme 'gopher' is not allowed, only http and https)");
        await Assert.That(schemeCanonical).IsNull();
        await Assert.That(invalid.Rule).IsEqualTo("invalid_url");
        await Assert.That(invalid.Describe()).StartsWith("URL is blocked by rule invalid_url (");
        await Assert.That(invalidCanonical).IsNull();
    }
}
