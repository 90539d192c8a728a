using System.Net;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Tests.Security;

public class SsrfGuardAddressTests
{
    private static readonly SsrfGuard Default = new(new SsrfOptions());
    private static readonly SsrfGuard AllowLoopbackOne = new(new SsrfOptions { AllowCidrs = ["127.0.0.1/32"] });

    [Test]
    [Arguments("0.0.0.0", "unspecified")]
    [Arguments("0.1.2.3", "unspecified")]
    [Arguments("127.0.0.1", "loopback")]
    [Arguments("127.255.255.254", "loopback")]
    [Arguments("10.255.0.1", "private")]
    [Arguments("172.31.255.255", "private")]
    [Arguments("192.168.0.1", "private")]
    [Arguments("100.127.255.255", "cgnat")]
    [Arguments("100.100.100.200", "metadata")]
    [Arguments("169.254.169.254", "metadata")]
    [Arguments("169.254.170.2", "link_local")]
    [Arguments("192.0.0.192", "reserved")]
    [Arguments("192.0.2.55", "reserved")]
    [Arguments("192.88.99.1", "reserved")]
    [Arguments("198.19.255.255", "reserved")]
    [Arguments("198.51.100.1", "reserved")]
    [Arguments("203.0.113.1", "reserved")]
    [Arguments("239.255.255.250", "multicast")]
    [Arguments("255.255.255.255", "broadcast")]
    [Arguments("255.255.255.254", "reserved")]
    [Arguments("::", "unspecified")]
    [Arguments("::1", "loopback")]
    [Arguments("::ffff:10.0.0.1", "private")]
    [Arguments("::ffff:169.254.169.254", "metadata")]
    [Arguments("fc00::1", "unique_local")]
    [Arguments("fd00:ec2::254", "metadata")]
    [Arguments("fe80::1", "ipv6_link_local")]
    [Arguments("febf::1", "ipv6_link_local")]
    [Arguments("fec0::1", "site_local")]
    [Arguments("ff05::1:3", "multicast")]
    [Arguments("100::dead", "reserved")]
    [Arguments("2001:2::1", "reserved")]
    [Arguments("2001:10::1", "reserved")]
    [Arguments("2001:db8:1::1", "reserved")]
    [Arguments("3fff::1", "reserved")]
    [Arguments("5f00::1", "reserved")]
    [Arguments("::10.0.0.1", "ipv4_embedded:private")]
    [Arguments("::0.0.0.2", "ipv4_embedded:unspecified")]
    [Arguments("::ffff:0:169.254.169.254", "ipv4_embedded:metadata")]
    [Arguments("64:ff9b::a9fe:a9fe", "ipv4_embedded:metadata")]
    [Arguments("64:ff9b::e000:1", "ipv4_embedded:multicast")]
    [Arguments("2002:c0a8:101::1", "ipv4_embedded:private")]
    [Arguments("2002:6440:1::", "ipv4_embedded:cgnat")]
    public async Task Default_list_denies_with_the_named_rule(string address, string rule)
    {
        SsrfVerdict verdict = Default.CheckAddress(IPAddress.Parse(address), 443);

        await Assert.That(verdict.Allowed).IsFalse();
        await Assert.That(verdict.Rule).IsEqualTo(rule);
        await Assert.That(verdict.Address).IsEqualTo(IPAddress.Parse(address).ToString());
    }

    [Test]
    [Arguments("93.184.216.34")]
    [Arguments("1.1.1.1")]
    [Arguments("100.63.255.255")]
    [Arguments("100.128.0.0")]
    [Arguments("172.32.0.1")]
    [Arguments("192.0.3.1")]
    [Arguments("223.255.255.255")]
    [Arguments("2606:4700::1")]
    [Arguments("2a00:1450:4001::200e")]
    [Arguments("::ffff:93.184.216.34")]
    [Arguments("::5db8:d822")]
    [Arguments("64:ff9b::5db8:d822")]
    [Arguments("2001:1::1")]
    public async Task Public_addresses_are_allowed(string address)
    {
        SsrfVerdict verdict = Default.CheckAddress(IPAddress.Parse(address), 443);

        await Assert.That(verdict.Allowed).IsTrue();
        await Assert.That(verdict.Rule).IsEqualTo("allowed");
    }

    [Test]
    [Arguments("2001:0:4136:e378:8000:63bf:a247:27dd", true, "allowed")]
    [Arguments("2001:0:4136:e378:8000:63bf:f5ff:fffe", false, "ipv4_embedded:private")]
    [Arguments("2001:0:a00:1:8000:63bf:a247:27dd", false, "ipv4_embedded:private")]
    [Arguments("2001:0:4136:e378:8000:63bf:5601:5601", false, "ipv4_embedded:metadata")]
    [Arguments("2002:5db8:d822::1", true, "allowed")]
    [Arguments("2002:5db8:d822:1:2:3:4:5", true, "allowed")]
    [Arguments("2002:a00:1::1", false, "ipv4_embedded:private")]
    [Arguments("2002:7f00:1::", false, "ipv4_embedded:loopback")]
    [Arguments("64:ff9b:1::5db8:d822", true, "allowed")]
    [Arguments("64:ff9b:1:7f00:0:200::", false, "ipv4_embedded:loopback")]
    public async Task Teredo_6to4_and_nat64_are_judged_by_their_ipv4(string address, bool allowed, string rule)
    {
        SsrfVerdict verdict = Default.CheckAddress(IPAddress.Parse(address), 80);

        await Assert.That(verdict.Allowed).IsEqualTo(allowed);
        await Assert.That(verdict.Rule).IsEqualTo(rule);
    }

    [Test]
    [Arguments("127.0.0.1", true, "allow_cidr")]
    [Arguments("::ffff:127.0.0.1", true, "allow_cidr")]
    [Arguments("127.0.0.2", false, "loopback")]
    [Arguments("::ffff:127.0.0.2", false, "loopback")]
    [Arguments("64:ff9b::7f00:2", false, "ipv4_embedded:loopback")]
    [Arguments("2002:7f00:2::", false, "ipv4_embedded:loopback")]
    [Arguments("::1", false, "loopback")]
    [Arguments("64:ff9b::7f00:1", true, "allowed")]
    public async Task Allowing_one_loopback_address_allows_only_that_address(string address, bool allowed, string rule)
    {
        SsrfVerdict verdict = AllowLoopbackOne.CheckAddress(IPAddress.Parse(address), 80);

        await Assert.That(verdict.Allowed).IsEqualTo(allowed);
        await Assert.That(verdict.Rule).IsEqualTo(rule);
    }

    [Test]
    [Arguments("10.1.2.3", false, "deny_cidr")]
    [Arguments("10.2.0.1", true, "allow_cidr")]
    [Arguments("93.184.216.34", false, "deny_cidr")]
    [Arguments("::ffff:93.184.216.34", false, "deny_cidr")]
    [Arguments("2002:5db8:d822::", false, "ipv4_embedded:deny_cidr")]
    [Arguments("2606:4700::1", false, "deny_cidr")]
    [Arguments("2606:4701::1", true, "allowed")]
    [Arguments("fd00::1", true, "allow_cidr")]
    [Arguments("fd00::dead", false, "deny_cidr")]
    [Arguments("192.168.7.9", true, "allow_cidr")]
    [Arguments("192.168.8.1", false, "private")]
    public async Task Deny_cidr_beats_allow_cidr(string address, bool allowed, string rule)
    {
        var guard = new SsrfGuard(new SsrfOptions
        {
            AllowCidrs = ["10.0.0.0/8", "2002::/16", "fd00::/16", "::ffff:192.168.7.0/120"],
            DenyCidrs = ["10.1.0.0/16", "93.184.216.0/24", "2606:4700::/32", "fd00::dead"],
        });

        SsrfVerdict verdict = guard.CheckAddress(IPAddress.Parse(address), 80);

        await Assert.That(verdict.Allowed).IsEqualTo(allowed);
        await Assert.That(verdict.Rule).IsEqualTo(rule);
    }

    [Test]
    [Arguments("10.0.0.1", true, "allowed")]
    [Arguments("172.16.0.1", true, "allowed")]
    [Arguments("192.168.1.1", true, "allowed")]
    [Arguments("100.64.0.1", true, "allowed")]
    [Arguments("fd12:3456::1", true, "allowed")]
    [Arguments("64:ff9b::a00:1", true, "allowed")]
    [Arguments("127.0.0.1", false, "loopback")]
    [Arguments("::1", false, "loopback")]
    [Arguments("0.0.0.0", false, "unspecified")]
    [Arguments("169.254.169.254", false, "metadata")]
    [Arguments("100.100.100.200", false, "metadata")]
    [Arguments("fd00:ec2::254", false, "metadata")]
    [Arguments("169.254.1.1", false, "link_local")]
    [Arguments("fe80::1", false, "ipv6_link_local")]
    [Arguments("fec0::1", false, "site_local")]
    [Arguments("224.0.0.1", false, "multicast")]
    [Arguments("64:ff9b::7f00:1", false, "ipv4_embedded:loopback")]
    public async Task Allow_private_networks_lifts_only_private_ranges(string address, bool allowed, string rule)
    {
        var guard = new SsrfGuard(new SsrfOptions { AllowPrivateNetworks = true });

        SsrfVerdict verdict = guard.CheckAddress(IPAddress.Parse(address), 80);

        await Assert.That(verdict.Allowed).IsEqualTo(allowed);
        await Assert.That(verdict.Rule).IsEqualTo(rule);
    }

    [Test]
    [Arguments("[::1]", 8080, "::1", 8080, false)]
    [Arguments("[::1]", 8080, "::ffff:127.0.0.1", 8080, true)]
    [Arguments("[::]", 8080, "127.0.0.1", 8080, false)]
    [Arguments("[::]", 8080, "::1", 8080, false)]
    [Arguments("[::]", 8080, "::", 8080, false)]
    [Arguments("[::]", 8080, "93.184.216.34", 8080, true)]
    [Arguments("10.0.0.5", 8080, "10.0.0.5", 8080, false)]
    [Arguments("10.0.0.5", 8080, "10.0.0.5", 8081, true)]
    public async Task Own_endpoint_wins_over_allow(string listen, int listenPort, string address, int port, bool allowed)
    {
        var guard = new SsrfGuard(new SsrfOptions
        {
            AllowCidrs = ["0.0.0.0/0", "::/0"],
            OwnEndpoints = [new IPEndPoint(IPAddress.Parse(listen), listenPort)],
        });

        SsrfVerdict verdict = guard.CheckAddress(IPAddress.Parse(address), port);

        await Assert.That(verdict.Allowed).IsEqualTo(allowed);
        await Assert.That(verdict.Rule).IsEqualTo(allowed ? "allow_cidr" : "own_address");
    }

    [Test]
    [Arguments("--allow-cidr", "x")]
    [Arguments("--allow-cidr", "10.0.0.0/33")]
    [Arguments("--deny-cidr", "127.1")]
    [Arguments("--deny-cidr", "")]
    [Arguments("--resolve", "example.com:80")]
    [Arguments("--resolve", "example.com:80:127.1")]
    public async Task Bad_flag_values_throw_naming_the_flag_and_the_entry(string flag, string value)
    {
        SsrfOptions options = flag switch
        {
            "--allow-cidr" => new SsrfOptions { AllowCidrs = ["127.0.0.1/32", value] },
            "--deny-cidr" => new SsrfOptions { DenyCidrs = [value] },
            _ => new SsrfOptions { Resolve = [value] },
        };

        ArgumentException exception = Assert.Throws<ArgumentException>(() => new SsrfGuard(options));

        await Assert.That(exception.Message).StartsWith($"{flag}: '{value}' is not");
    }

    [Test]
    public async Task Allowed_checks_on_the_connect_path_do_not_allocate()
    {
        var guard = new SsrfGuard(new SsrfOptions
        {
            AllowCidrs = ["127.0.0.1/32", "2001:db8::/32"],
            DenyCidrs = ["198.51.100.0/24"],
            OwnEndpoints = [new IPEndPoint(IPAddress.Any, 8080)],
        });
        IPAddress[] addresses =
        [
            IPAddress.Parse("93.184.216.34"), IPAddress.Parse("127.0.0.1"), IPAddress.Parse("2606:4700::1"),
            IPAddress.Parse("2001:0:4136:e378:8000:63bf:a247:27dd"), IPAddress.Parse("64:ff9b::5db8:d822"),
        ];
        foreach (IPAddress address in addresses)
        {
            guard.CheckAddress(address, 443);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        int allowed = 0;
        for (int i = 0; i < 1000; i++)
        {
            allowed += guard.CheckAddress(addresses[i % addresses.Length], 443).Allowed ? 1 : 0;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        await Assert.That(allowed).IsEqualTo(1000);
        await Assert.That(allocated).IsEqualTo(0L);
    }
}
