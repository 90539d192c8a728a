namespace HoodyCurl.Requests.Security;

/// <summary>
/// The ranges denied unless allowed by <c>--allow-cidr</c> (docs/api.md D11), from the IANA special-purpose
/// registries (RFC 6890). First match wins, so a narrow entry sits before the range that holds it.
/// IPv4-mapped addresses are unwrapped and IPv4-embedding forms are handled by <see cref="EmbeddedIpv4"/>
/// before and after this list.
/// </summary>
internal static class DefaultDenyList
{
    private static readonly AddressRange[] V4 =
    [
        AddressRange.Parse("0.0.0.0/8", SsrfRules.Unspecified),          // RFC 1122 §3.2.1.3 "this network"
        AddressRange.Parse("127.0.0.0/8", SsrfRules.Loopback),           // RFC 1122 §3.2.1.3
        AddressRange.Parse("10.0.0.0/8", SsrfRules.Private),             // RFC 1918
        AddressRange.Parse("172.16.0.0/12", SsrfRules.Private),          // RFC 1918
        AddressRange.Parse("192.168.0.0/16", SsrfRules.Private),         // RFC 1918
        AddressRange.Parse("100.100.100.200/32", SsrfRules.Metadata),    // Alibaba Cloud metadata, inside CGNAT: not lifted with it
        AddressRange.Parse("100.64.0.0/10", SsrfRules.Cgnat),            // RFC 6598
        AddressRange.Parse("169.254.169.254/32", SsrfRules.Metadata),    // AWS, GCP, Azure, OpenStack instance metadata
        AddressRange.Parse("169.254.0.0/16", SsrfRules.LinkLocal),       // RFC 3927
        AddressRange.Parse("192.0.0.0/24", SsrfRules.Reserved),          // RFC 6890 IETF protocol assignments (incl. Oracle metadata 192.0.0.192)
        AddressRange.Parse("192.0.2.0/24", SsrfRules.Reserved),          // RFC 5737 TEST-NET-1
        AddressRange.Parse("192.88.99.0/24", SsrfRules.Reserved),        // RFC 7526 deprecated 6to4 relay anycast
        AddressRange.Parse("198.18.0.0/15", SsrfRules.Reserved),         // RFC 2544 benchmarking
        AddressRange.Parse("198.51.100.0/24", SsrfRules.Reserved),       // RFC 5737 TEST-NET-2
        AddressRange.Parse("203.0.113.0/24", SsrfRules.Reserved),        // RFC 5737 TEST-NET-3
        AddressRange.Parse("224.0.0.0/4", SsrfRules.Multicast),          // RFC 5771
        AddressRange.Parse("255.255.255.255/32", SsrfRules.Broadcast),   // RFC 919 limited broadcast
        AddressRange.Parse("240.0.0.0/4", SsrfRules.Reserved),           // RFC 1112 §4 future use
    ];

    private static readonly AddressRange[] V6 =
    [
        AddressRange.Parse("::/128", SsrfRules.Unspecified),             // RFC 4291 §2.5.2
        AddressRange.Parse("::1/128", SsrfRules.Loopback),               // RFC 4291 §2.5.3
        AddressRange.Parse("fd00:ec2::254/128", SsrfRules.Metadata),     // AWS instance metadata over IPv6, inside ULA: not lifted with it
        AddressRange.Parse("100::/64", SsrfRules.Reserved),              // RFC 6666 discard-only
        AddressRange.Parse("2001:2::/48", SsrfRules.Reserved),           // RFC 5180 benchmarking
        AddressRange.Parse("2001:10::/28", SsrfRules.Reserved),          // RFC 4843 ORCHID (deprecated)
        AddressRange.Parse("2001:20::/28", SsrfRules.Reserved),          // RFC 7343 ORCHIDv2
        AddressRange.Parse("2001:db8::/32", SsrfRules.Reserved),         // RFC 3849 documentation
        AddressRange.Parse("3fff::/20", SsrfRules.Reserved),             // RFC 9637 documentation
        AddressRange.Parse("5f00::/16", SsrfRules.Reserved),             // RFC 9602 SRv6 SIDs
        AddressRange.Parse("fc00::/7", SsrfRules.UniqueLocal),           // RFC 4193
        AddressRange.Parse("fe80::/10", SsrfRules.Ipv6LinkLocal),        // RFC 4291 §2.5.6
        AddressRange.Parse("fec0::/10", SsrfRules.SiteLocal),            // RFC 3879 (deprecated)
        AddressRange.Parse("ff00::/8", SsrfRules.Multicast),             // RFC 4291 §2.7
    ];

    /// <summary>The denying rule for an IPv4 address (as <see cref="IpBits"/>), or null.</summary>
    public static string? ClassifyV4(uint address) => AddressRange.FirstMatch(V4, isV6: false, address);

    /// <summary>The denying rule for an IPv6 address, or null; embedded IPv4 is not looked at here.</summary>
    public static string? ClassifyV6(UInt128 address) => AddressRange.FirstMatch(V6, isV6: true, address);
}
