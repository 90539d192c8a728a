// The link secret: 128 random bits as unpadded URL-safe base64 (22 characters), shown once at
// creation. Only its SHA-256 is stored; a presented token is hashed and compared in constant time.
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace HoodyCurl.Links;

internal static class LinkToken
{
    public const int RandomBytes = 16;
    public const int Length = 22;

    /// <summary>A fresh token from the OS CSPRNG.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[RandomBytes];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>True when <paramref name="token"/> is exactly the canonical encoding of 16 bytes.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> token)
    {
        if (token.Length != Length) return false;
        foreach (var c in token)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        Span<byte> bytes = stackalloc byte[RandomBytes + 2];
        try
        {
            if (!Base64Url.TryDecodeFromChars(token, bytes, out var written) || written != RandomBytes) return false;
        }
        catch (FormatException)
        {
            return false; // non-zero trailing bits: Base64Url throws rather than answering false
        }
        // 22 characters carry 132 bits: the last 4 must be zero, or two spellings would open one link.
        Span<char> again = stackalloc char[Length];
        return Base64Url.TryEncodeToChars(bytes[..RandomBytes], again, out _) && again.SequenceEqual(token);
    }

    /// <summary>SHA-256 of the token's ASCII bytes: what the store keeps and looks up.</summary>
    public static byte[] Hash(ReadOnlySpan<char> token)
    {
        Span<byte> ascii = stackalloc byte[Encoding.ASCII.GetMaxByteCount(token.Length)];
        var n = Encoding.ASCII.GetBytes(token, ascii);
        return SHA256.HashData(ascii[..n]);
    }

    /// <summary>Constant-time comparison of a stored hash with the hash of a presented token.</summary>
    public static bool Matches(ReadOnlySpan<byte> storedHash, ReadOnlySpan<char> token) =>
        CryptographicOperations.FixedTimeEquals(storedHash, Hash(token));
}
