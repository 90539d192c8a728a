// A stored body opened for reading: positioned reads (pread) on the content file's handle. It is opened with a bare
// open(2) (no FileStream lock or seek probes: a 1 KiB hit pays open, fstat, pread, close). A body whose file version
// is not verified yet (a large one on its first read after a start) is hashed as it is read, in order from the
// first byte; reaching its length checks the sha256, and a mismatch fails that read with an IOException (the caller's
// answer is cut, never silently wrong) and removes the entry. Transparent mode reads it with ReadAt straight into
// the response; the handle itself is not exposed, so no read can skip the check.
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace HoodyCurl.Cache;

public sealed partial class ContentStream : Stream
{
    private const int O_RDONLY = 0, O_CLOEXEC = 0x80000; // Linux values (x86-64 and arm64)
    private long _position;
    private Verification? _verification;

    private ContentStream(SafeFileHandle handle, long length, Verification? verification)
    {
        Handle = handle;
        Length = length;
        _verification = verification;
    }

    private sealed class Verification(string expectedHash, Action onMismatch, Action onVerified)
    {
        public readonly IncrementalHash Hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        public readonly string ExpectedHash = expectedHash;
        public readonly Action OnMismatch = onMismatch, OnVerified = onVerified;
        public long Hashed;
    }

    /// <summary>The open content file (read-only). Not public: every read goes through <see cref="ReadAt"/>, which verifies.</summary>
    internal SafeFileHandle Handle { get; }

    public override long Length { get; }

    internal static SafeFileHandle? OpenHandle(string path)
    {
        var fd = Open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) return new SafeFileHandle(fd, ownsHandle: true);
        var errno = Marshal.GetLastPInvokeError();
        if (errno == 2) return null; // ENOENT: gone (evicted or purged underneath the index)
        throw new IOException($"cannot open a cached body: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    internal static ContentStream Over(SafeFileHandle handle, long length) => new(handle, length, null);

    /// <summary>A body still to be verified: hashed while read (in order), checked when its last byte is read.</summary>
    internal static ContentStream Verifying(SafeFileHandle handle, long length, string expectedHash, Action onMismatch, Action onVerified) =>
        new(handle, length, new Verification(expectedHash, onMismatch, onVerified));

    /// <summary>Reads at <paramref name="offset"/>. While the body is unverified, reads must go in order from 0 (each
    /// starting where the last one ended); the read that reaches <see cref="Length"/> checks the sha256 and throws
    /// <see cref="IOException"/> on a mismatch.</summary>
    public int ReadAt(Span<byte> buffer, long offset)
    {
        var n = RandomAccess.Read(Handle, buffer, offset);
        if (_verification is not { } v) return n;
        if (offset != v.Hashed) throw new InvalidOperationException("an unverified cached body must be read in order");
        v.Hash.AppendData(buffer[..n]);
        v.Hashed += n;
        if (v.Hashed >= Length || n == 0)
        {
            _verification = null;
            Span<byte> actual = stackalloc byte[32];
            v.Hash.GetHashAndReset(actual);
            v.Hash.Dispose();
            if (v.Hashed != Length || Convert.ToHexStringLower(actual) != v.ExpectedHash)
            {
                v.OnMismatch();
                throw new IOException("the cached body failed its integrity check");
            }
            v.OnVerified();
        }
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = ReadAt(buffer, _position);
        _position += n;
        return n;
    }

    // Page-cache reads: synchronous is cheaper than a thread-pool hop per read.
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Handle.Dispose();
            _verification?.Hash.Dispose();
        }
        base.Dispose(disposing);
    }

    [LibraryImport("libc.so.6", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);
}
