namespace HoodyCurl.Requests.Security;

/// <summary>What a URL host is once its numeric spellings are understood.</summary>
internal enum HostKind
{
    Name,
    Ipv4,
    Invalid,
}

/// <summary>
/// The IPv4 host parser of the WHATWG URL standard (§3.5), which libcurl's <c>ipv4_normalize</c> and
/// <c>inet_aton</c> agree with: one to four parts, each decimal, octal (leading 0) or hex (0x); the last part
/// fills the remaining bytes, so <c>127.1</c>, <c>2130706433</c>, <c>0x7f.1</c> and <c>0177.0.0.1</c> are all
/// 127.0.0.1. A host whose last label is a number but that is not a valid IPv4 address is invalid, not a name.
/// </summary>
internal static class Ipv4HostParser
{
    private const ulong Overflow = 1UL << 32;

    public static HostKind Parse(ReadOnlySpan<char> host, out uint address)
    {
        address = 0;
        if (host.Length > 1 && host[^1] == '.')
        {
            host = host[..^1];
        }

        int lastDot = host.LastIndexOf('.');
        ReadOnlySpan<char> last = host[(lastDot + 1)..];
        if (!IsAllDigits(last) && !TryParseNumber(last, out _))
        {
            return HostKind.Name;
        }

        return TryParseAddress(host, out address) ? HostKind.Ipv4 : HostKind.Invalid;
    }

    private static bool TryParseAddress(ReadOnlySpan<char> host, out uint address)
    {
        address = 0;
        Span<ulong> parts = stackalloc ulong[4];
        int count = 0;
        foreach (Range range in host.Split('.'))
        {
            if (count == 4 || !TryParseNumber(host[range], out parts[count]))
            {
                return false;
            }

            count++;
        }

        ulong value = 0;
        for (int i = 0; i < count - 1; i++)
        {
            if (parts[i] > 255)
            {
                return false;
            }

            value |= parts[i] << (8 * (3 - i));
        }

        ulong lastPart = parts[count - 1];
        if (lastPart >= 1UL << (8 * (5 - count)))
        {
            return false;
        }

        address = (uint)(value | lastPart);
        return true;
    }

    private static bool TryParseNumber(ReadOnlySpan<char> text, out ulong value)
    {
        value = 0;
        if (text.IsEmpty)
        {
            return false;
        }

        int radix = 10;
        if (text.Length >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        {
            radix = 16;
            text = text[2..];
        }
        else if (text.Length >= 2 && text[0] == '0')
        {
            radix = 8;
            text = text[1..];
        }

        foreach (char c in text)
        {
            int digit = DigitValue(c);
            if (digit < 0 || digit >= radix)
            {
                return false;
            }

            // Saturate instead of overflowing: any value past 32 bits is already invalid.
            value = Math.Min(Overflow, (value * (ulong)radix) + (ulong)digit);
        }

        return true;
    }

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static bool IsAllDigits(ReadOnlySpan<char> text) => !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9');
}
