// The addresses and schemes decisions D11 denies, as the tests feed them to the sidecar. {trap} is the
// ConnectionTrap's port, {self} the sidecar's own port.
namespace HoodyCurl.E2E.Tests.Security;

/// <summary>A URL the guard must refuse, the rule it must name, and the address it must name (null: none).</summary>
public sealed record SsrfTarget(string Url, string Rule, string? Address)
{
    public override string ToString() => Url;
}

public static class SsrfTargets
{
    /// <summary>Targets refused because of the address they reach (before the transfer or at connect time).</summary>
    public static IEnumerable<Func<SsrfTarget>> ByAddress()
    {
        // Loopback other than the allowed 127.0.0.1, in every spelling.
        yield return () => new("http://127.0.0.2:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://127.2:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://127.0.2:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://127.1.1:{trap}/", "loopback", "127.1.0.1");
        yield return () => new("http://2130706434:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://0x7f000002:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://0x7f.0.0.2:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://0x7f.2:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://0177.0.0.2:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://017700000002:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://[::1]:{trap}/", "loopback", "::1");
        yield return () => new("http://[::ffff:127.0.0.2]:{trap}/", "loopback", "::ffff:127.0.0.2");
        // Unspecified: connecting to it reaches the local host.
        yield return () => new("http://[::]:{trap}/", "unspecified", "::");
        yield return () => new("http://0.0.0.0:{trap}/", "unspecified", "0.0.0.0");
        yield return () => new("http://0:{trap}/", "unspecified", "0.0.0.0");
        // Private, CGNAT, link-local and metadata, multicast, broadcast, reserved.
        yield return () => new("http://10.0.0.1:{trap}/", "private", "10.0.0.1");
        yield return () => new("http://172.16.0.1:{trap}/", "private", "172.16.0.1");
        yield return () => new("http://192.168.1.1:{trap}/", "private", "192.168.1.1");
        yield return () => new("http://100.64.0.1:{trap}/", "cgnat", "100.64.0.1");
        yield return () => new("http://169.254.169.254:{trap}/latest/meta-data/", "metadata", "169.254.169.254");
        yield return () => new("http://169.254.1.1:{trap}/", "link_local", "169.254.1.1");
        yield return () => new("http://224.0.0.1:{trap}/", "multicast", "224.0.0.1");
        yield return () => new("http://255.255.255.255:{trap}/", "broadcast", "255.255.255.255");
        yield return () => new("http://240.0.0.1:{trap}/", "reserved", "240.0.0.1");
        // IPv6 ULA and link-local, and IPv6 forms that embed a denied IPv4 address.
        yield return () => new("http://[fd00::1]:{trap}/", "unique_local", "fd00::1");
        yield return () => new("http://[fe80::1]:{trap}/", "ipv6_link_local", "fe80::1");
        yield return () => new("http://[64:ff9b::7f00:2]:{trap}/", "ipv4_embedded:loopback", "64:ff9b::7f00:2");
        yield return () => new("http://[2002:7f00:2::]:{trap}/", "ipv4_embedded:loopback", "2002:7f00:2::");
        yield return () => new("http://[::127.0.0.2]:{trap}/", "ipv4_embedded:loopback", "::127.0.0.2");
        // The sidecar itself (no relay loops), even though 127.0.0.1 is allowed.
        yield return () => new("http://127.0.0.1:{self}/health", "own_address", "127.0.0.1");
        yield return () => new("http://127.1:{self}/health", "own_address", "127.0.0.1");
        yield return () => new("http://[::ffff:127.0.0.1]:{self}/health", "own_address", "::ffff:127.0.0.1");
        // Names mapped by --resolve: checked as the address they map to.
        yield return () => new("http://name.test:{trap}/", "loopback", "127.0.0.2");
        yield return () => new("http://name6.test:{trap}/", "loopback", "::1");
    }

    /// <summary>Targets refused because of their scheme: only http and https, also on redirects.</summary>
    public static IEnumerable<Func<SsrfTarget>> ByScheme()
    {
        yield return () => new("file:///etc/passwd", "scheme", null);
        yield return () => new("FILE:///etc/passwd", "scheme", null);
        yield return () => new("gopher://127.0.0.2:{trap}/_GET%20/", "scheme", null);
        yield return () => new("dict://127.0.0.2:{trap}/info", "scheme", null);
        yield return () => new("ftp://127.0.0.2:{trap}/", "scheme", null);
        yield return () => new("ldap://127.0.0.2:{trap}/", "scheme", null);
        yield return () => new("telnet://127.0.0.2:{trap}/", "scheme", null);
    }
}
