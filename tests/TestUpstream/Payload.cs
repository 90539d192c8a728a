using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace HoodyCurl.TestUpstream;

/// <summary>
/// The deterministic pseudo-random bytes served by /bytes and /stream-bytes. Byte i of a payload
/// depends only on (seed, i), so any range can be generated on the fly without state and tests can
/// compute the expected digest without downloading anything.
/// </summary>
public static class Payload
{
    /// <summary>The seed the endpoints use when the request gives none.</summary>
    public const int DefaultSeed = 42;

    /// <summary>Writes the payload bytes [offset, offset + dest.Length) of the given seed into dest.</summary>
    public static void Fill(Span<byte> dest, long offset, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ulong key = SeedKey(seed);
        ulong block = (ulong)offset / 8;
        int skip = (int)((ulong)offset % 8);
        Span<byte> scratch = stackalloc byte[8];

        // A leading partial block when offset is not a multiple of 8.
        if (skip != 0 && !dest.IsEmpty)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(scratch, Block(key, block++));
            int take = Math.Min(8 - skip, dest.Length);
            scratch.Slice(skip, take).CopyTo(dest);
            dest = dest[take..];
        }

        while (dest.Length >= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(dest, Block(key, block++));
            dest = dest[8..];
        }

        if (!dest.IsEmpty)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(scratch, Block(key, block));
            scratch[..dest.Length].CopyTo(dest);
        }
    }

    /// <summary>Convenience for tests: the payload bytes [offset, offset + length) as an array.</summary>
    public static byte[] Create(int length, int seed = DefaultSeed, long offset = 0)
    {
        var bytes = new byte[length];
        Fill(bytes, offset, seed);
        return bytes;
    }

    /// <summary>Lowercase hex SHA-256 of the first <paramref name="length"/> payload bytes of the seed.</summary>
    public static string Sha256Hex(long length, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            for (long done = 0; done < length;)
            {
                int n = (int)Math.Min(buffer.Length, length - done);
                Fill(buffer.AsSpan(0, n), done, seed);
                hash.AppendData(buffer, 0, n);
                done += n;
            }
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ulong SeedKey(int seed) => unchecked((ulong)(uint)seed * 0xD1B54A32D192ED03UL);

    // SplitMix64 over a counter: random access by block index, fast, well distributed.
    private static ulong Block(ulong key, ulong index)
    {
        unchecked
        {
            ulong z = key + (index + 1) * 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
