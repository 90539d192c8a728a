namespace HoodyCurl.Requests.Security;

/// <summary>A precomputed CIDR block and the rule it stands for, checked on the connect path.</summary>
internal readonly record struct AddressRange(bool IsV6, UInt128 Value, UInt128 Mask, string Rule)
{
    public static AddressRange From(IpNetwork network, string rule) =>
        new(network.IsV6, IpBits.ToBits(network.Prefix), IpBits.Mask(network.PrefixLength, network.IsV6), rule);

    public static AddressRange Parse(string cidr, string rule) =>
        IpNetwork.TryParse(cidr, out IpNetwork network, out string? error)
            ? From(network, rule)
            : throw new ArgumentException($"'{cidr}' is not a CIDR ({error})", nameof(cidr));

    public bool Contains(bool isV6, UInt128 bits) => isV6 == IsV6 && (bits & Mask) == Value;

    /// <summary>The rule of the first range containing the address, or null.</summary>
    public static string? FirstMatch(AddressRange[] ranges, bool isV6, UInt128 bits)
    {
        foreach (AddressRange range in ranges)
        {
            if (range.Contains(isV6, bits))
            {
                return range.Rule;
            }
        }

        return null;
    }
}
