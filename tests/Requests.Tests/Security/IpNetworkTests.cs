using System.Net;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Tests.Security;

public class IpNetworkTests
{
    [Test]
    [Arguments("10.0.0.0/8", "10.0.0.0", 8)]
    [Arguments("10.1.2.3/8", "10.0.0.0", 8)]
    [Arguments("172.16.255.255/12", "172.16.0.0", 12)]
    [Arguments("1.2.3.4", "1.2.3.4", 32)]
    [Arguments("1.2.3.4/32", "1.2.3.4", 32)]
    [Arguments("0.0.0.0/0", "0.0.0.0", 0)]
    [Arguments("255.255.255.255/0", "0.0.0.0", 0)]
    [Arguments("fd00::1", "fd00::1", 128)]
    [Arguments("FD00::1/8", "fd00::", 8)]
    [Arguments("2001:db8::/32", "2001:db8::", 32)]
    [Arguments("2001:db8::1/128", "2001:db8::1", 128)]
    [Arguments("::/0", "::", 0)]
    [Arguments("::ffff:10.0.0.0/104", "::ffff:10.0.0.0", 104)]
    public async Task Parses_valid_cidrs_and_clears_host_bits(string text, string prefix, int length)
    {
        bool ok = IpNetwork.TryParse(text, out IpNetwork network, out string? error);

        await Assert.That(ok).IsTrue();
        await Assert.That(error).IsNull();
        await Assert.That(network.Prefix).IsEqualTo(IPAddress.Parse(prefix));
        await Assert.That(network.PrefixLength).IsEqualTo(length);
    }

    [Test]
    [Arguments("")]
    [Arguments("x")]
    [Arguments("10.0.0.0/33")]
    [Arguments("::/129")]
    [Arguments("10.0.0.0/")]
    [Arguments("10.0.0.0/-1")]
    [Arguments("10.0.0.0/8/8")]
    [Arguments("10.0.0.0/ 8")]
    [Arguments("10.0.0.0/0x8")]
    [Arguments("1.2.3.4/1234")]
    [Arguments("10.0.0")]
    [Arguments("127.1")]
    [Arguments("2130706433")]
    [Arguments("010.0.0.1")]
    [Arguments("1.2.3.256")]
    [Arguments("1.2.3.4.5")]
    [Arguments(" 1.2.3.4")]
    [Arguments("fe80::1%eth0/64")]
    [Arguments("[::1]/128")]
    [Arguments("::1/abc")]
    [Arguments("1::2::3/64")]
    public async Task Rejects_invalid_cidrs_with_a_reason(string text)
    {
        bool ok = IpNetwork.TryParse(text, out _, out string? error);

        await Assert.That(ok).IsFalse();
        await Assert.That(error).IsNotNull();
    }

    [Test]
    [Arguments("10.0.0.0/8", "10.255.255.255", true)]
    [Arguments("10.0.0.0/8", "11.0.0.0", false)]
    [Arguments("0.0.0.0/0", "203.0.113.9", true)]
    [Arguments("0.0.0.0/0", "::1", false)]
    [Arguments("0.0.0.0/0", "::ffff:1.2.3.4", false)]
    [Arguments("127.0.0.1/32", "127.0.0.1", true)]
    [Arguments("127.0.0.1/32", "127.0.0.2", false)]
    [Arguments("::/0", "::1", true)]
    [Arguments("::/0", "1.2.3.4", false)]
    [Arguments("fc00::/7", "fdff:ffff::1", true)]
    [Arguments("fc00::/7", "fe00::1", false)]
    [Arguments("2001:db8::1/128", "2001:db8::1", true)]
    [Arguments("2001:db8::1/128", "2001:db8::2", false)]
    public async Task Contains_matches_within_one_family(string cidr, string address, bool expected)
    {
        IpNetwork.TryParse(cidr, out IpNetwork network, out _);

        await Assert.That(network.Contains(IPAddress.Parse(address))).IsEqualTo(expected);
    }
}
