// Sends bytes no well-behaved HTTP client would send (megabyte request lines, hundreds of header
// fields) over a plain socket and reads the answer: one request per connection, Connection: close.
using System.Net.Sockets;
using System.Text;

namespace HoodyCurl.E2E.Tests.Security;

public static class RawRequest
{
    /// <summary>The status code and body of the answer to <paramref name="request"/>; 0 when the server closed without one.</summary>
    public static async Task<(int Status, string Body)> SendAsync(int port, byte[] request, TimeSpan? limit = null)
    {
        using var cts = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(20));
        using var client = new TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port, cts.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, cts.Token);
        }
        catch (IOException)
        {
            // The server may answer and close before it read everything: the answer is still there.
        }
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0) received.Write(buffer, 0, read);
        }
        catch (IOException) { }
        var text = Encoding.Latin1.GetString(received.ToArray());
        if (!text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || text.Length < 12) return (0, text);
        var status = int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (status, headEnd < 0 ? "" : text[(headEnd + 4)..]);
    }

    /// <summary>GET <paramref name="target"/> with the given extra header lines.</summary>
    public static byte[] Get(string target, string extraHeaders = "") =>
        Encoding.Latin1.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extraHeaders}\r\n");
}
