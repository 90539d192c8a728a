// Transparent relay of header bytes (issue 12 §1b): obs-text (bytes >= 0x80) is relayed byte-exact instead
// of turning the answer into a 500; an error answer never carries the upstream's headers; HEAD on the
// bridge answers the upstream's Content-Length. The caller's side is read from the raw socket, so the
// bytes compared are the bytes on the wire.
using System.Text;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Security;

namespace HoodyCurl.E2E.Tests.Requests;

public class RelayHeaderBytesTests
{
    private static byte[] Latin1(string s) => Encoding.Latin1.GetBytes(s);

    private static async Task<string> RawGet(Sidecar sidecar, string pathAndQuery, string method = "GET")
    {
        var request = Latin1($"{method} {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        using var client = new System.Net.Sockets.TcpClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.ConnectAsync(System.Net.IPAddress.Loopback, sidecar.Port, cts.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(request, cts.Token);
        var received = new MemoryStream();
        try { await stream.CopyToAsync(received, cts.Token); } catch (IOException) { }
        return Encoding.Latin1.GetString(received.ToArray());
    }

    private static string Head(string raw) => raw.Split("\r\n\r\n")[0] + "\r\n";

    [Test]
    public async Task Obs_text_header_bytes_are_relayed_byte_exact()
    {
        await using var upstream = new RawResponder();
        await using var sidecar = await Sidecar.StartAsync();
        upstream.Answer = Latin1("HTTP/1.1 200 OK\r\nX-Latin: caf\u00e9 \u00ff\u0080 end\r\nCache-Control: max-age=100000\r\nContent-Length: 2\r\n\r\nok");
        var raw = await RawGet(sidecar, $"/api/v1/curl/request?response=transparent&url={Api.Q(upstream.Url("/x"))}");
        await Assert.That(raw).StartsWith("HTTP/1.1 200 ");
        await Assert.That(Head(raw)).Contains("\r\nX-Latin: caf\u00e9 \u00ff\u0080 end\r\n");
        await Assert.That(raw).EndsWith("\r\n\r\nok");

        // The json envelope shows the same value as text.
        var (status, body) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url("/x"))}");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(body.GetProperty("headers").GetProperty("x-latin").GetString()).IsEqualTo("caf\u00e9 \u00ff\u0080 end");
    }

    [Test]
    public async Task Control_characters_and_bad_names_never_turn_into_a_500()
    {
        await using var upstream = new RawResponder();
        await using var sidecar = await Sidecar.StartAsync();
        upstream.Answer = Latin1("HTTP/1.1 200 OK\r\nX-Ctl: a\u0001b\u007fc\tq\r\nBad Name: v\r\nX-Ok: fine\r\nContent-Length: 2\r\n\r\nok");
        var raw = await RawGet(sidecar, $"/api/v1/curl/request?response=transparent&url={Api.Q(upstream.Url("/x"))}");
        await Assert.That(raw).StartsWith("HTTP/1.1 200 ");
        await Assert.That(Head(raw)).Contains("\r\nX-Ctl: a b c\tq\r\n");
        await Assert.That(Head(raw)).Contains("\r\nX-Ok: fine\r\n");
        await Assert.That(Head(raw)).DoesNotContain("Bad Name");
    }

    [Test]
    public async Task Head_on_the_bridge_answers_the_upstream_content_length()
    {
        await using var upstream = await HoodyCurl.TestUpstream.TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var raw = await RawGet(sidecar, $"/api/v1/curl/request?response=transparent&url={Api.Q(upstream.Url("/bytes/1234"))}", "HEAD");
        await Assert.That(raw).StartsWith("HTTP/1.1 200 ");
        await Assert.That(Head(raw)).Contains("\r\nContent-Length: 1234");
        await Assert.That(raw).EndsWith("\r\n\r\n"); // no body after a HEAD answer
    }

    /// <summary>
    /// Random header bytes from the upstream: every answer is either the relayed 200 with the upstream's body,
    /// or an error in the contract's shape that carries none of the upstream's headers; never a 500.
    /// </summary>
    [Test]
    public async Task Random_header_bytes_relay_or_fail_cleanly()
    {
        await using var upstream = new RawResponder();
        await using var sidecar = await Sidecar.StartAsync();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        for (var round = 0; round < 150; round++)
        {
            var value = new byte[random.Next(0, 40)];
            for (var i = 0; i < value.Length; i++)
            {
                // Mostly printable and obs-text, sometimes any byte but CR and LF (those end the line: framing, not a value).
                byte b;
                do b = random.Next(4) == 0 ? (byte)random.Next(256) : (byte)random.Next(0x20, 0x100);
                while (b is 0x0A or 0x0D);
                value[i] = b;
            }
            var answer = new MemoryStream();
            answer.Write(Latin1("HTTP/1.1 200 OK\r\nCache-Control: max-age=100000\r\nX-Random: "));
            answer.Write(value);
            answer.Write(Latin1("\r\nContent-Length: 5\r\n\r\nhello"));
            upstream.Answer = answer.ToArray();
            var raw = await RawGet(sidecar, $"/api/v1/curl/request?response=transparent&timeout=5&url={Api.Q(upstream.Url("/r"))}");
            var shown = $"seed {seed} round {round}: value {Convert.ToHexString(value)} -> {raw}";
            await Assert.That(raw.Length).IsGreaterThan(12).Because(shown);
            var status = int.Parse(raw.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
            await Assert.That(status).IsNotEqualTo(500).Because(shown);
            if (status == 200)
            {
                await Assert.That(raw).EndsWith("hello").Because(shown);
            }
            else
            {
                await Assert.That(Head(raw)).DoesNotContain("max-age=100000").Because(shown);
                await Assert.That(raw).Contains("\"code\":").Because(shown);
            }
        }
        await Assert.That(sidecar.HasExited).IsFalse();
    }
}
