using System.Globalization;
using System.Net;
using System.Text;

namespace HoodyCurl.Requests.Tests.Security;

/// <summary>A generated URL; <see cref="Expected"/> is set when the host is a clean spelling of that address.</summary>
internal sealed record GeneratedUrl(string Url, IPAddress? Expected, bool IsIpv4Spelling);

/// <summary>
/// Builds hostile and benign URLs from a seeded <see cref="Random"/>: numeric IPv4 spellings (decimal, hex,
/// octal, 1-4 parts, percent-escaped, fullwidth), IPv6 literals including IPv4-embedding forms, names, and
/// junk (controls, escapes, brackets, '@', backslashes, lone surrogates, overlong text).
/// </summary>
internal static class RandomUrlGenerator
{
    private static readonly string[] CleanSchemes = ["http", "https", "HTTP", "hTTps"];
    private static readonly string[] OtherSchemes = ["file", "gopher", "ftp", "dict", "ws", "javascript", "", " http", "ht\ttp", "1http"];
    private static readonly string[] Separators = ["://", "://", "://", ":/", ":", ":///", ":\\\\"];
    private static readonly string[] Paths = ["", "/", "/a/b?c=d#e", "?q=1", "#frag", "/%2e%2e/x", "/\u00e9"];
    private static readonly string[] UserInfos = ["", "", "", "user:pass@", "u@", "a%40b:c@"];
    private static readonly string[] Names = ["example.com", "localhost", "a.localhost", "evil.test", "ok.test", "x", "foo.bar.baz", "xn--bcher-kva.de", "b\u00fccher.de"];
    private static readonly string[] JunkPieces =
    [
        "\0", "\t", "\r\n", " ", "\u007f", "\u0085", "\u3000", "%", "%2e", "%00", "%zz", "%ff", "@", ":", "[", "]", "\\", "/", "#", "?",
        "\u00e9", "\uFF10", "\uFF0E", "\uD800", "\uDC00", "0x", "0", "1", "7f", "::", ".", "..", "[::1]", "127.0.0.1", "\U0001D7CF",
    ];

    private static readonly uint[] InterestingBases =
    [
        0x7F000000, 0x0A000000, 0x00000000, 0xA9FEA9FE, 0x64400000, 0xC0A80000, 0x5DB8D822, 0xE0000000, 0xFFFFFFFF, 0xAC100000,
    ];

    public static GeneratedUrl Next(Random random)
    {
        return random.Next(10) switch
        {
            < 5 => Compose(random, SpellIpv4(random, out uint v4), IpBitsOf(v4), isIpv4: true),
            < 7 => Compose(random, "[" + SpellIpv6(random, out IPAddress v6) + "]", v6, isIpv4: false),
            < 8 => Compose(random, Pick(random, Names), null, isIpv4: false),
            _ => Mutate(random, Compose(random, SpellIpv4(random, out _), null, isIpv4: false).Url),
        };
    }

    public static uint RandomIpv4(Random random) =>
        random.Next(2) == 0
            ? (uint)random.NextInt64(0, 1L << 32)
            : Pick(random, InterestingBases) | (uint)random.Next(0, random.Next(2) == 0 ? 4 : 1 << 16);

    private static GeneratedUrl Compose(Random random, string host, IPAddress? expected, bool isIpv4)
    {
        bool clean = random.Next(5) != 0;
        string scheme = clean ? Pick(random, CleanSchemes) : Pick(random, OtherSchemes);
        string separator = clean ? "://" : Pick(random, Separators);
        string port = random.Next(3) switch
        {
            0 => string.Empty,
            1 => ":" + random.Next(1, 65536).ToString(CultureInfo.InvariantCulture),
            _ => clean ? ":8080" : ":" + Pick(random, ["0", "65536", "", "abc", "99999999999", "-1", "80:80"]),
        };
        string path = clean ? Pick(random, Paths) : Junk(random, random.Next(0, 6));
        if (!clean && random.Next(50) == 0)
        {
            path = "/" + new string('a', 9000);
        }

        string url = scheme + separator + Pick(random, UserInfos) + host + port + path;
        return new GeneratedUrl(url, clean ? expected : null, isIpv4);
    }

    private static GeneratedUrl Mutate(Random random, string url)
    {
        var builder = new StringBuilder(url);
        int edits = random.Next(1, 4);
        for (int i = 0; i < edits && builder.Length > 0; i++)
        {
            int at = random.Next(builder.Length);
            switch (random.Next(3))
            {
                case 0:
                    builder.Insert(at, Pick(random, JunkPieces));
                    break;
                case 1:
                    builder.Remove(at, 1);
                    break;
                default:
                    builder[at] = (char)random.Next(0, 0x3000);
                    break;
            }
        }

        return new GeneratedUrl(builder.ToString(), null, false);
    }

    private static string SpellIpv4(Random random, out uint address)
    {
        address = RandomIpv4(random);
        int parts = random.Next(1, 5);
        var spelled = new List<string>(parts);
        for (int i = 0; i < parts - 1; i++)
        {
            spelled.Add(SpellNumber(random, (address >> (24 - (8 * i))) & 0xFF));
        }

        ulong lastMask = (1UL << (8 * (5 - parts))) - 1;
        spelled.Add(SpellNumber(random, address & lastMask));
        string host = string.Join('.', spelled) + (random.Next(8) == 0 ? "." : string.Empty);
        return random.Next(6) switch
        {
            0 => PercentEncodeSome(random, host),
            1 => Fullwidth(host),
            _ => host,
        };
    }

    private static string SpellNumber(Random random, ulong value)
    {
        string zeros = new('0', random.Next(0, 3));
        return random.Next(4) switch
        {
            0 => "0x" + zeros + value.ToString("x", CultureInfo.InvariantCulture),
            1 => "0X" + zeros + value.ToString("X", CultureInfo.InvariantCulture),
            2 => "0" + zeros + Convert.ToString((long)value, 8),
            _ => value.ToString(CultureInfo.InvariantCulture),
        };
    }

    private static string SpellIpv6(Random random, out IPAddress address)
    {
        uint v4 = RandomIpv4(random);
        UInt128 bits = random.Next(9) switch
        {
            0 => ((UInt128)0xFFFF << 32) | v4,                                         // mapped
            1 => v4 < 2 ? 2u : v4,                                                     // compatible
            2 => new UInt128(0x0064_ff9b_0000_0000UL, v4),                               // NAT64
            3 => new UInt128(0x2002_0000_0000_0000UL | ((ulong)v4 << 16), (ulong)random.NextInt64()), // 6to4
            4 => new UInt128(0x2001_0000_0000_0000UL | RandomIpv4(random), ((ulong)(uint)random.Next() << 32) | ~v4), // Teredo
            5 => new UInt128(0xfd00_0000_0000_0000UL | (uint)random.Next(), (ulong)random.NextInt64()),
            6 => (uint)random.Next(2),                                                     // :: and ::1
            _ => new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64()),
        };
        byte[] bytes = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, bits);
        address = new IPAddress(bytes);
        return random.Next(3) switch
        {
            0 => address.ToString().ToUpperInvariant(),
            1 => string.Join(':', Enumerable.Range(0, 8).Select(i => ((bytes[2 * i] << 8) | bytes[(2 * i) + 1]).ToString("x4", CultureInfo.InvariantCulture))),
            _ => address.ToString(),
        };
    }

    private static string PercentEncodeSome(Random random, string host)
    {
        var builder = new StringBuilder();
        foreach (char c in host)
        {
            builder.Append(random.Next(3) == 0 ? "%" + ((int)c).ToString("X2", CultureInfo.InvariantCulture) : c.ToString());
        }

        return builder.ToString();
    }

    private static string Fullwidth(string host)
    {
        var builder = new StringBuilder();
        foreach (char c in host)
        {
            builder.Append(c is > ' ' and < '\u007f' ? (char)(c + 0xFEE0) : c);
        }

        return builder.ToString();
    }

    private static string Junk(Random random, int pieces)
    {
        var builder = new StringBuilder();
        for (int i = 0; i < pieces; i++)
        {
            builder.Append(random.Next(3) == 0 ? ((char)random.Next(0, 0x80)).ToString() : Pick(random, JunkPieces));
        }

        return builder.ToString();
    }

    private static IPAddress IpBitsOf(uint v4) =>
        new([(byte)(v4 >> 24), (byte)(v4 >> 16), (byte)(v4 >> 8), (byte)v4]);

    private static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];
}
