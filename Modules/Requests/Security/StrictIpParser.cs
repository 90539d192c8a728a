using System.Net;
using System.Net.Sockets;

namespace HoodyCurl.Requests.Security;

/// <summary>
/// Parses operator-given addresses (CIDRs, <c>--resolve</c>) strictly: IPv4 only as four decimal octets without
/// leading zeros (so <c>010.0.0.1</c> cannot mean two things), IPv6 without a zone id.
/// </summary>
internal static class StrictIpParser
{
    public static bool TryParse(ReadOnlySpan<char> text, bool allowBrackets, out IPAddress? address, out string? error)
    {
        address = null;
        error = null;
        if (text.IsEmpty)
        {
            error = "empty address";
            return false;
        }

        if (allowBrackets && text.Length >= 2 && text[0] == '[' && text[^1] == ']')
        {
            text = text[1..^1];
            if (!text.Contains(':'))
            {
                error = "brackets are only for IPv6 addresses";
                return false;
            }
        }

        return text.Contains(':') ? TryParseV6(text, out address, out error) : TryParseV4(text, out address, out error);
    }

    public static bool TryParseV6(ReadOnlySpan<char> text, out IPAddress? address, out string? error)
    {
        address = null;
        if (text.Contains('%'))
        {
            error = "zone ids are not allowed";
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c) && c != ':' && c != '.')
            {
                error = "not an IPv6 address";
                return false;
            }
        }

        if (!IPAddress.TryParse(text, out IPAddress? parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
        {
            error = "not an IPv6 address";
            return false;
        }

        address = parsed;
        error = null;
        return true;
    }

    private static bool TryParseV4(ReadOnlySpan<char> text, out IPAddress? address, out string? error)
    {
        address = null;
        error = "not a dotted-quad IPv4 address";
        uint value = 0;
        int parts = 0;
        foreach (Range range in text.Split('.'))
        {
            ReadOnlySpan<char> part = text[range];
            if (++parts > 4 || part.IsEmpty || part.Length > 3 || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }

            int octet = 0;
            foreach (char c in part)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }

                octet = (octet * 10) + (c - '0');
            }

            if (octet > 255)
            {
                return false;
            }

            value = (value << 8) | (uint)octet;
        }

        if (parts != 4)
        {
            return false;
        }

        address = IpBits.FromV4(value);
        error = null;
        return true;
    }
}
