using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.TestUpstream.Http;

/// <summary>
/// Streams a stretch of <see cref="Payload"/> bytes, generating each chunk just before writing it,
/// so memory stays one chunk whatever the length. Every write is flushed, which also gives the
/// client's read pace back-pressure on the generator.
/// </summary>
internal static class PayloadWriter
{
    public const int DefaultChunk = 64 * 1024;
    public const int MaxChunk = 16 * 1024 * 1024;

    public static async Task WriteAsync(HttpContext context, long offset, long count, int seed, int chunkSize)
    {
        chunkSize = Math.Clamp(chunkSize, 1, MaxChunk);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
        try
        {
            for (long done = 0; done < count;)
            {
                int n = (int)Math.Min(chunkSize, count - done);
                Payload.Fill(buffer.AsSpan(0, n), offset + done, seed);
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, n), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
