using System.Security.Cryptography;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// A read-only pass-through over a request body that hashes and counts every byte read and keeps a
/// copy only while the body stays under a limit, so bodies of any size cost flat memory while form
/// parsers read through it.
/// </summary>
internal sealed class BodyTap(Stream inner, int captureLimit) : Stream
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private MemoryStream? _captured = new();

    public long BytesRead { get; private set; }

    /// <summary>The whole body when it fit under the limit; null when it was larger.</summary>
    public byte[]? Captured => _captured?.ToArray();

    public string Sha256Hex() => Convert.ToHexStringLower(_sha256.GetCurrentHash());

    /// <summary>Reads whatever the parsers left (epilogue, or all of a non-form body).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64 * 1024];
        while (await ReadAsync(buffer, cancellationToken) > 0)
        {
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await inner.ReadAsync(buffer, cancellationToken);
        Observe(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        int read = inner.Read(buffer, offset, count);
        Observe(buffer.AsSpan(offset, read));
        return read;
    }

    private void Observe(ReadOnlySpan<byte> bytes)
    {
        _sha256.AppendData(bytes);
        BytesRead += bytes.Length;
        if (_captured is not null && _captured.Length + bytes.Length > captureLimit)
        {
            _captured = null;
        }
        _captured?.Write(bytes);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha256.Dispose();
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
