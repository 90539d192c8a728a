// The channel's binary frame (docs/api.md (Channel)): a 16-byte little-endian header, then raw body bytes.
//   0 u8 version (1) | 1 u8 kind (1 BODY, 2 REQUEST_BODY) | 2 u16 flags (bit 0 LAST) | 4 u32 reserved (0) | 8 u64 stream_id
// The parser sees untrusted bytes: it never throws, and says why a frame is refused.
using System.Buffers;
using System.Buffers.Binary;

namespace HoodyCurl.Realtime.Channel;

internal static class BinaryFrame
{
    public const int HeaderBytes = 16;
    public const byte Version = 1;
    public const byte KindBody = 1;
    public const byte KindRequestBody = 2;
    public const ushort FlagLast = 0x0001;

    /// <summary>Writes the header of a frame into the first 16 bytes of <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, byte kind, ushort flags, ulong streamId)
    {
        destination[0] = Version;
        destination[1] = kind;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], streamId);
    }

    /// <summary>A whole frame: header plus a copy of <paramref name="payload"/>.</summary>
    public static byte[] Encode(byte kind, ushort flags, ulong streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderBytes + payload.Length];
        WriteHeader(frame, kind, flags, streamId);
        payload.CopyTo(frame.AsSpan(HeaderBytes));
        return frame;
    }

    /// <summary>
    /// A frame in a buffer rented from <see cref="ArrayPool{T}.Shared"/>: header plus one copy of
    /// <paramref name="payload"/>; the frame is the first <paramref name="length"/> bytes. The caller returns the
    /// buffer to the pool once the frame has been sent.
    /// </summary>
    public static byte[] Rent(byte kind, ushort flags, ulong streamId, in ReadOnlySequence<byte> payload, out int length)
    {
        length = HeaderBytes + (int)payload.Length;
        var frame = ArrayPool<byte>.Shared.Rent(length);
        WriteHeader(frame, kind, flags, streamId);
        payload.CopyTo(frame.AsSpan(HeaderBytes));
        return frame;
    }

    /// <inheritdoc cref="Rent(byte, ushort, ulong, in ReadOnlySequence{byte}, out int)"/>
    public static byte[] Rent(byte kind, ushort flags, ulong streamId, ReadOnlySpan<byte> payload, out int length)
    {
        length = HeaderBytes + payload.Length;
        var frame = ArrayPool<byte>.Shared.Rent(length);
        WriteHeader(frame, kind, flags, streamId);
        payload.CopyTo(frame.AsSpan(HeaderBytes));
        return frame;
    }

    /// <summary>
    /// Reads the header of <paramref name="frame"/>. Returns null when it is well formed, else the reason
    /// (too short, version, kind, reserved bits). <paramref name="streamId"/> is set whenever 16 bytes
    /// were there to read, so a refusal can still name its stream.
    /// </summary>
    public static string? TryParse(ReadOnlySpan<byte> frame, out Header header, out ulong? streamId)
    {
        header = default;
        streamId = null;
        if (frame.Length < HeaderBytes) return $"a binary frame needs a {HeaderBytes}-byte header, got {frame.Length} bytes";
        var id = BinaryPrimitives.ReadUInt64LittleEndian(frame[8..]);
        streamId = id;
        if (frame[0] != Version) return $"binary frame version {frame[0]} is not supported (expected {Version})";
        var kind = frame[1];
        if (kind is not (KindBody or KindRequestBody)) return $"binary frame kind {kind} is unknown";
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(frame[2..]);
        if ((flags & ~FlagLast) != 0) return $"binary frame flags 0x{flags:x4} set reserved bits";
        if (BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]) != 0) return "binary frame reserved field is not 0";
        header = new Header(kind, flags, id);
        return null;
    }

    public readonly record struct Header(byte Kind, ushort Flags, ulong StreamId)
    {
        public bool Last => (Flags & FlagLast) != 0;
    }
}
