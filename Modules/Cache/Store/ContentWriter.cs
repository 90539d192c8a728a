// A body being written to tmp/ while it is hashed; Finish fsyncs it and returns its sha256.
using System.Security.Cryptography;

namespace HoodyCurl.Cache.Store;

internal sealed class ContentWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _finished;

    public ContentWriter(string tempPath)
    {
        TempPath = tempPath;
        _file = new FileStream(tempPath, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 64 * 1024,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite, Options = FileOptions.Asynchronous,
        });
    }

    public string TempPath { get; }
    public long Length { get; private set; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _hash.AppendData(data.Span);
        await _file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        Length += data.Length;
    }

    public string Finish()
    {
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        _finished = true;
        return Convert.ToHexStringLower(_hash.GetHashAndReset());
    }

    public void Dispose()
    {
        _hash.Dispose();
        if (_finished) return;
        _file.Dispose();
        try
        {
            File.Delete(TempPath);
        }
        catch (IOException)
        {
        }
    }
}
