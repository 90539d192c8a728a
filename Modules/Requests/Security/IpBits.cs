using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace HoodyCurl.Requests.Security;

/// <summary>Addresses as integers (IPv4 in the low 32 bits), so range checks are a mask and a compare.</summary>
internal static class IpBits
{
    private const ulong MappedPrefix = 0xFFFF; // ::ffff:0:0/96, RFC 4291 §2.5.5.2

    public static bool IsV6(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6;

    public static UInt128 ToBits(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written))
        {
            throw new ArgumentException("Unsupported address.", nameof(address));
        }

        return written == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    public static IPAddress FromBits(UInt128 bits, bool isV6)
    {
        if (!isV6)
        {
            return FromV4((uint)bits);
        }

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, bits);
        return new IPAddress(bytes);
    }

    public static IPAddress FromV4(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    public static bool IsMappedV4(UInt128 v6) => (v6 >> 32) == MappedPrefix;

    public static UInt128 Mask(int prefixLength, bool isV6)
    {
        int width = isV6 ? 128 : 32;
        if (prefixLength <= 0)
        {
            return UInt128.Zero;
        }

        UInt128 all = isV6 ? UInt128.MaxValue : uint.MaxValue;
        return (all << (width - prefixLength)) & all;
    }
}
