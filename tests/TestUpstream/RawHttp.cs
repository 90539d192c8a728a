using System.Globalization;
using System.Text;

namespace HoodyCurl.TestUpstream;

/// <summary>
/// Just enough HTTP/1.1 reading for <see cref="FlakyServer"/>: consume one request (head and body)
/// so that closing the socket afterwards does not reset the connection over unread input.
/// </summary>
internal static class RawHttp
{
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(2);

    public static async Task ReadRequestAsync(Stream stream, int maxHeadBytes, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        byte[] buffer = new byte[16 * 1024];
        int headEnd;
        while ((headEnd = IndexOfHeadEnd(received)) < 0)
        {
            int read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0 || received.Count > maxHeadBytes)
            {
                throw new IOException("The client closed before sending a request head.");
            }
            received.AddRange(buffer.AsSpan(0, read));
        }

        string head = Encoding.Latin1.GetString(received.GetRange(0, headEnd).ToArray());
        byte[] bodyStart = received.Skip(headEnd + 4).ToArray();
        if (HeaderValue(head, "Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            await ReadUntilChunkedEndAsync(stream, bodyStart, buffer, cancellationToken);
        }
        else if (long.TryParse(HeaderValue(head, "Content-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out long length))
        {
            for (long remaining = length - bodyStart.Length; remaining > 0;)
            {
                int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
                if (read == 0)
                {
                    return;
                }
                remaining -= read;
            }
        }
    }

    /// <summary>Reads until the peer closes, for at most a couple of seconds.</summary>
    public static async Task DrainAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(DrainLimit);
        byte[] buffer = new byte[4096];
        while (await stream.ReadAsync(buffer, limit.Token) > 0)
        {
        }
    }

    // The last-chunk and empty trailer end a chunked body; scanning for it is enough to consume the body.
    private static async Task ReadUntilChunkedEndAsync(Stream stream, byte[] alreadyRead, byte[] buffer, CancellationToken cancellationToken)
    {
        byte[] terminator = "0\r\n\r\n"u8.ToArray();
        var tail = new List<byte>(alreadyRead);
        while (!EndsWith(tail, terminator))
        {
            int read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                return;
            }
            tail.AddRange(buffer.AsSpan(0, read));
            if (tail.Count > 64)
            {
                tail.RemoveRange(0, tail.Count - 64);
            }
        }
    }

    private static bool EndsWith(List<byte> bytes, byte[] suffix) =>
        bytes.Count >= suffix.Length && bytes.Skip(bytes.Count - suffix.Length).SequenceEqual(suffix);

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (int i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    private static string? HeaderValue(string head, string name) =>
        head.Split("\r\n")
            .Skip(1)
            .Where(line => line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(line => line[(name.Length + 1)..].Trim())
            .LastOrDefault();
}
