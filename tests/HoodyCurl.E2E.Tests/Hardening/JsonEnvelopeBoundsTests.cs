// Issue 16 item 5: one json-mode call took 1.4 GB (60 MiB of zero bytes became a 377 MB answer, each byte
// escaped as \u0000, built in one growing buffer). Bodies that are not printable text now go as base64
// with is_binary, the answer is streamed, and the encoded body counts against --max-response-buffer-bytes.
using System.Text;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Hardening;

[System.Runtime.Versioning.SupportedOSPlatform("linux")] // /proc
public class JsonEnvelopeBoundsTests
{
    private const string RequestPath = "/api/v1/curl/request";

    /// <summary>Answers /zeros/{n}, /quotes/{n} and /unicode/{n} with n bytes of that kind.</summary>
    private static RawUpstream StartBodies() => RawUpstream.Start(async (request, stream) =>
    {
        var parts = request.Target.Split('/');
        var n = int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
        byte[] body = parts[1] switch
        {
            "zeros" => new byte[n],
            "quotes" => Enumerable.Repeat((byte)'"', n).ToArray(),
            _ => Unicode(n),
        };
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\n\r\n"));
        if (parts.Length > 3 && parts[3] == "paced")
        {
            // In four pieces, 30 ms apart: the sidecar reads the body in several steps.
            var piece = (body.Length + 3) / 4;
            for (var at = 0; at < body.Length; at += piece)
            {
                await stream.WriteAsync(body.AsMemory(at, Math.Min(piece, body.Length - at)));
                await stream.FlushAsync();
                await Task.Delay(30);
            }
            return;
        }
        await stream.WriteAsync(body);
    });

    private static byte[] Unicode(int n) => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("é€😀a\"\n", n / 12 + 1)))[..n];

    [Test]
    public async Task Zero_bytes_go_as_base64_and_the_sidecar_stays_small()
    {
        await using var upstream = StartBodies();
        await using var sidecar = await Sidecar.StartAsync();
        const int size = 40 * 1024 * 1024;
        using var response = await sidecar.Client.GetAsync($"{RequestPath}?url={Api.Q(upstream.Url($"/zeros/{size}"))}&response=json");
        var text = await response.Content.ReadAsStringAsync();
        await Assert.That((int)response.StatusCode).IsEqualTo(200);
        // base64: 4/3 of the body, not the 6x of \u0000 escapes.
        await Assert.That((long)text.Length).IsLessThan(size / 3L * 4 + 64 * 1024);
        using var document = JsonDocument.Parse(text);
        await Assert.That(document.RootElement.GetProperty("is_binary").GetBoolean()).IsTrue();
        var body = document.RootElement.GetProperty("body").GetBytesFromBase64();
        await Assert.That(body.Length).IsEqualTo(size);
        await Assert.That(body.All(b => b == 0)).IsTrue();
        // The old code peaked past 1 GiB for this call; the body plus its streamed answer is far below.
        var peakKib = long.Parse(File.ReadAllLines($"/proc/{sidecar.Pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        await Assert.That(peakKib).IsLessThan(400 * 1024);
    }

    [Test]
    public async Task The_encoded_body_counts_against_the_buffer_limit()
    {
        await using var upstream = StartBodies();
        await using var sidecar = await Sidecar.StartAsync("--max-response-buffer-bytes", "1000000");
        async Task<(int, JsonElement)> Get(string path) =>
            await sidecar.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(upstream.Url(path))}&response=json");

        var (over, overBody) = await Get("/zeros/900000"); // 900 kB received, 1.2 MB as base64
        await Assert.That(over).IsEqualTo(502).Because(overBody.ToString());
        await Assert.That(overBody.GetProperty("code").GetString()).IsEqualTo("RESPONSE_TOO_LARGE");
        await Assert.That(overBody.GetProperty("message").GetString()!).Contains("base64");
        var (quotes, quotesBody) = await Get("/quotes/600000"); // 1.2 MB once escaped
        await Assert.That(quotes).IsEqualTo(502).Because(quotesBody.ToString());
        await Assert.That(quotesBody.GetProperty("message").GetString()!).Contains("JSON-escaped");

        var (fits, fitsBody) = await Get("/zeros/700000"); // 933,336 bytes of base64
        await Assert.That(fits).IsEqualTo(200).Because(fitsBody.ToString());
        await Assert.That(fitsBody.GetProperty("body").GetBytesFromBase64().Length).IsEqualTo(700000);
    }

    [Test]
    public async Task Text_crossing_every_chunk_boundary_arrives_whole()
    {
        await using var upstream = StartBodies();
        await using var sidecar = await Sidecar.StartAsync();
        const int size = 300_000; // several 64 KiB chunks, multi-byte characters split across their edges
        var expected = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("é€😀a\"\n", size / 12 + 1)))[..size]);
        // Cut inside a character at the end would not be text: trim the expectation to whole characters.
        var (status, body) = await sidecar.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(upstream.Url($"/unicode/{size}"))}&response=json");
        await Assert.That(status).IsEqualTo(200).Because(body.ToString()[..Math.Min(300, body.ToString().Length)]);
        if (body.GetProperty("is_binary").GetBoolean())
        {
            // The 300,000th byte fell inside a character: then the body is not valid UTF-8 and comes as base64.
            await Assert.That(Encoding.UTF8.GetString(body.GetProperty("body").GetBytesFromBase64())).IsEqualTo(expected);
        }
        else
        {
            await Assert.That(body.GetProperty("body").GetString()).IsEqualTo(expected);
        }
        // A body that ends on a whole character is text.
        var whole = Encoding.UTF8.GetByteCount(string.Concat(Enumerable.Repeat("é€😀a\"\n", 20000)));
        var (wholeStatus, wholeBody) = await sidecar.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(upstream.Url($"/unicode/{whole}"))}&response=json");
        await Assert.That(wholeStatus).IsEqualTo(200);
        await Assert.That(wholeBody.GetProperty("is_binary").GetBoolean()).IsFalse();
        await Assert.That(wholeBody.GetProperty("body").GetString()).IsEqualTo(string.Concat(Enumerable.Repeat("é€😀a\"\n", 20000)));
    }

    /// <summary>
    /// Bodies up to 64 KiB are written from the transfer's pipe without being copied out (issue 13), over one or
    /// several pipe segments and reads: every size around the edges comes back byte for byte, as text when it is
    /// whole UTF-8 and as base64 when the cut fell inside a character.
    /// </summary>
    [Test]
    public async Task Bodies_written_from_the_pipe_arrive_whole()
    {
        await using var upstream = StartBodies();
        await using var sidecar = await Sidecar.StartAsync();
        foreach (var size in new[] { 0, 1, 12_000, 16_385, 40_003, 40_008, 65_532, 65_536, 65_537, 70_008 })
        {
            foreach (var paced in new[] { "", "/paced" })
            {
                var expected = Unicode(size);
                var (status, body) = await sidecar.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(upstream.Url($"/unicode/{size}{paced}"))}&response=json");
                var what = $"{size} bytes{paced}";
                await Assert.That(status).IsEqualTo(200).Because(what);
                var isText = System.Text.Unicode.Utf8.IsValid(expected);
                await Assert.That(body.GetProperty("is_binary").GetBoolean()).IsEqualTo(!isText).Because(what);
                if (isText) await Assert.That(body.GetProperty("body").GetString()).IsEqualTo(Encoding.UTF8.GetString(expected)).Because(what);
                else await Assert.That(body.GetProperty("body").GetBytesFromBase64().SequenceEqual(expected)).IsTrue().Because(what);
                await Assert.That(body.GetProperty("metadata").GetProperty("size_download").GetInt64()).IsEqualTo(size).Because(what);
            }
        }
    }
}
