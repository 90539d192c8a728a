using System.Net;

namespace HoodyCurl.Requests.Security;

/// <summary>
/// A CIDR block. <see cref="TryParse"/> clears host bits (<c>10.1.2.3/8</c> is <c>10.0.0.0/8</c>); a bare
/// address is a /32 or /128. <see cref="Contains"/> compares within one family only.
/// </summary>
internal readonly record struct IpNetwork(IPAddress Prefix, int PrefixLength)
{
    public bool IsV6 => IpBits.IsV6(Prefix);

    public static bool TryParse(string text, out IpNetwork network, out string? error)
    {
        network = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty CIDR";
            return false;
        }

        int slash = text.IndexOf('/');
        ReadOnlySpan<char> addressText = slash < 0 ? text : text.AsSpan(0, slash);
        if (!StrictIpParser.TryParse(addressText, allowBrackets: false, out IPAddress? address, out error))
        {
            return false;
        }

        bool isV6 = IpBits.IsV6(address!);
        int width = isV6 ? 128 : 32;
        int length = width;
        if (slash >= 0 && !TryParseLength(text.AsSpan(slash + 1), width, out length, out error))
        {
            return false;
        }

        UInt128 bits = IpBits.ToBits(address!) & IpBits.Mask(length, isV6);
        network = new IpNetwork(IpBits.FromBits(bits, isV6), length);
        return true;
    }

    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return Prefix is not null && IpBits.IsV6(address) == IsV6 && Contains(IpBits.ToBits(address));
    }

    /// <summary>Containment of an address of this network's family given as <see cref="IpBits"/>.</summary>
    internal bool Contains(UInt128 bits) => (bits & IpBits.Mask(PrefixLength, IsV6)) == IpBits.ToBits(Prefix);

    public override string ToString() => $"{Prefix}/{PrefixLength}";

    private static bool TryParseLength(ReadOnlySpan<char> text, int width, out int length, out string? error)
    {
        length = 0;
        error = $"prefix length must be a number from 0 to {width}";
        if (text.IsEmpty || text.Length > 3)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            length = (length * 10) + (c - '0');
        }

        if (length > width)
        {
            return false;
        }

        error = null;
        return true;
    }
}
