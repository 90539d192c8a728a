// A large body served while its sha256 is checked: at the end a mismatch fails the read (the caller's answer
// is cut, never silently wrong) and reports the corruption.
using System.Security.Cryptography;

namespace HoodyCurl.Cache.Store;

internal sealed class VerifyingStream(FileStream inner, string expectedHash, Action onMismatch, Action onVerified) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _checked;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Check(inner.Read(buffer, offset, count), buffer.AsSpan(offset));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Check(n, buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Check(int n, Span<byte> data)
    {
        if (n > 0)
        {
            _hash.AppendData(data[..n]);
            return n;
        }
        if (!_checked)
        {
            _checked = true;
            if (Convert.ToHexStringLower(_hash.GetHashAndReset()) != expectedHash)
            {
                onMismatch();
                throw new IOException("cached body failed its integrity check");
            }
            onVerified();
        }
        return 0;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}
