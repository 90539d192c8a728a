namespace HoodyCurl.Requests.Security;

/// <summary>
/// Finds the IPv4 addresses an IPv6 address carries, so a denied IPv4 cannot be reached through a transition
/// form. IPv4-mapped (::ffff:0:0/96) is not here: the guard treats it as the IPv4 address itself.
/// </summary>
internal static class EmbeddedIpv4
{
    public const int MaxCandidates = 4;

    private static readonly UInt128 Nat64WellKnown = new(0x0064_ff9b, 0); // top 96 bits of 64:ff9b::/96, RFC 6052
    private const ulong Nat64LocalUse = 0x0064_ff9b_0001;                 // 64:ff9b:1::/48, RFC 8215
    private const ulong Siit = 0xFFFF_0000;                               // top 96 bits of ::ffff:0:0:0/96, RFC 2765
    private const ulong SixToFour = 0x2002;                               // 2002::/16, RFC 3056
    private const uint Teredo = 0x2001_0000;                              // 2001::/32, RFC 4380

    /// <summary>Writes the embedded IPv4 addresses into <paramref name="destination"/> and returns how many.</summary>
    public static int Extract(UInt128 v6, Span<uint> destination)
    {
        UInt128 top96 = v6 >> 32;
        uint low32 = (uint)v6;
        if (top96 == 0)
        {
            // IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1, deprecated); :: and ::1 are themselves.
            return Write(destination, low32 > 1, low32);
        }

        if (top96 == Siit || top96 == Nat64WellKnown)
        {
            return Write(destination, true, low32);
        }

        if ((v6 >> 112) == SixToFour)
        {
            return Write(destination, true, (uint)(v6 >> 80));
        }

        if ((uint)(v6 >> 96) == Teredo)
        {
            // RFC 4380 §4: server IPv4 in bits 32-63, client IPv4 obfuscated (inverted) in the last 32 bits.
            destination[0] = (uint)(v6 >> 64);
            destination[1] = ~low32;
            return 2;
        }

        if ((v6 >> 80) == Nat64LocalUse)
        {
            return ExtractLocalUseNat64(v6, destination);
        }

        return 0;
    }

    /// <summary>
    /// The local-use prefix may be cut at /48, /56, /64 or /96 (RFC 6052 §2.2), and the address does not say
    /// which: a /96 layout (bits 48-95 zero) is read as such, anything else yields every layout's candidate.
    /// </summary>
    private static int ExtractLocalUseNat64(UInt128 v6, Span<uint> destination)
    {
        bool middleZero = ((v6 >> 32) & 0xFFFF_FFFF_FFFF) == 0;
        bool suffixOctetZero = ((v6 >> 56) & 0xFF) == 0;   // the "u" octet, bits 64-71, is zero in the other layouts
        if (middleZero || !suffixOctetZero)
        {
            destination[0] = (uint)v6;
            return 1;
        }

        destination[0] = (uint)((((v6 >> 64) & 0xFFFF) << 16) | ((v6 >> 40) & 0xFFFF));   // /48
        destination[1] = (uint)((((v6 >> 64) & 0xFF) << 24) | ((v6 >> 32) & 0xFF_FFFF));  // /56
        destination[2] = (uint)(v6 >> 24);                                                // /64
        destination[3] = (uint)v6;                                                        // /96
        return 4;
    }

    private static int Write(Span<uint> destination, bool present, uint value)
    {
        if (!present)
        {
            return 0;
        }

        destination[0] = value;
        return 1;
    }
}
