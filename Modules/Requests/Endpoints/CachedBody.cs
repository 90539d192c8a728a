// A cache hit's body in transparent mode: the verified content file is read straight into Kestrel's response
// buffer (one copy, page cache to socket buffer), in chunks of up to 256 KiB, with no pipe, hashing or extra copy
// in between. Kestrel has no sendfile(2) path, so this is as close as it gets; the integrity check happened when
// the file was opened (CacheStore: the verified file identity).
using System.IO.Pipelines;

namespace HoodyCurl.Requests.Endpoints;

internal static class CachedBody
{
    private const int ChunkBytes = 256 * 1024;

    public static async Task SendAsync(PipeWriter writer, HoodyCurl.Cache.ContentStream file, CancellationToken cancellationToken)
    {
        var length = file.Length;
        long offset = 0;
        while (offset < length)
        {
            var want = (int)Math.Min(length - offset, ChunkBytes);
            var memory = writer.GetMemory(want);
            if (memory.Length > want) memory = memory[..want];
            // A synchronous read: the file is in the page cache after its first read, and a thread-pool hop per chunk
            // costs more than the copy. ReadAt hashes a body not verified yet and throws on a mismatch at its end.
            var n = file.ReadAt(memory.Span, offset);
            if (n == 0) throw new IOException("the cached body is shorter than its entry");
            writer.Advance(n);
            offset += n;
            var flushed = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flushed.IsCompleted || flushed.IsCanceled) return;
        }
    }
}
