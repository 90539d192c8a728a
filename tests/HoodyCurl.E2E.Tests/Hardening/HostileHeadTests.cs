// Issue 16 item 2: header handling was quadratic (76,000 folded lines took 6.75 s of a transfer thread,
// 60,000 repeated names 10.7 s of CPU) and unbounded. Now it is linear and one response head is bounded
// by --max-response-header-count and --max-response-header-bytes: beyond, 502 UPSTREAM_HEADERS_TOO_LARGE,
// promptly, while other relays keep flowing.
using System.Diagnostics;
using System.Text;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Hardening;

[ClassDataSource<SharedEnvironment>(Shared = SharedType.PerTestSession)]
public class HostileHeadTests(SharedEnvironment env)
{
    private const string RequestPath = "/api/v1/curl/request";

    /// <summary>An upstream whose /fold answers 76,000 obs-fold lines and /repeat 60,000 repeated names.</summary>
    private static RawUpstream StartHostile() => RawUpstream.Start(async (request, stream) =>
    {
        var head = new StringBuilder("HTTP/1.1 200 OK\r\n");
        if (request.Target.StartsWith("/fold", StringComparison.Ordinal))
        {
            head.Append("X-Fold: start\r\n");
            for (var i = 0; i < 76_000; i++) head.Append(" more\r\n");
        }
        else if (request.Target.StartsWith("/repeat", StringComparison.Ordinal))
        {
            for (var i = 0; i < 60_000; i++) head.Append("X-Rep: v\r\n");
        }
        else if (request.Target.StartsWith("/fine", StringComparison.Ordinal))
        {
            head.Append("X-Fold: start\r\n");
            for (var i = 0; i < 50; i++) head.Append("\tmore\r\n");
            for (var i = 0; i < 500; i++) head.Append("X-Rep: v").Append(i).Append("\r\n");
        }
        head.Append("Content-Length: 2\r\n\r\nok");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
    });

    [Test]
    public async Task Hostile_heads_get_502_promptly_and_a_concurrent_relay_still_completes()
    {
        await using var hostile = StartHostile();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var attacks = new List<Task<(int, System.Text.Json.JsonElement)>>();
        for (var i = 0; i < 4; i++)
        {
            attacks.Add(env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(hostile.Url($"/fold/{i}"))}"));
            attacks.Add(env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(hostile.Url($"/repeat/{i}"))}"));
        }
        // A normal relay while the hostile heads are being refused.
        var clock = Stopwatch.StartNew();
        using var normal = await env.Client.GetAsync($"{RequestPath}?url={Api.Q(env.Upstream.Url("/bytes/1000"))}&response=transparent", deadline.Token);
        var normalBody = await normal.Content.ReadAsByteArrayAsync(deadline.Token);
        await Assert.That((int)normal.StatusCode).IsEqualTo(200);
        await Assert.That(normalBody.Length).IsEqualTo(1000);

        foreach (var (status, body) in await Task.WhenAll(attacks).WaitAsync(deadline.Token))
        {
            await Assert.That(status).IsEqualTo(502).Because(body.ToString());
            await Assert.That(body.GetProperty("code").GetString()).IsEqualTo("UPSTREAM_HEADERS_TOO_LARGE");
        }
        // The async door gets the same answer, recorded on the job.
        var (submitStatus, submitted) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{hostile.Url("/repeat/job")}\",\"mode\":\"async\"}}");
        await Assert.That(submitStatus).IsEqualTo(202).Because(submitted.ToString());
        var jobId = submitted.GetProperty("job_id").GetString();
        var (jobStatus, job) = await env.Client.GetJsonAsync($"/api/v1/curl/jobs/{jobId}?wait=done&timeout_ms=30000");
        await Assert.That(jobStatus).IsEqualTo(200);
        await Assert.That(job.GetProperty("status").GetString()).IsEqualTo("failed");
        await Assert.That(job.GetProperty("error").GetString()!).Contains("--max-response-header");
    }

    [Test]
    public async Task A_head_within_the_limits_keeps_folded_and_repeated_headers()
    {
        await using var upstream = StartHostile();
        var (status, body) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(upstream.Url("/fine"))}");
        await Assert.That(status).IsEqualTo(200).Because(body.ToString());
        var headers = body.GetProperty("headers");
        await Assert.That(headers.GetProperty("x-fold").GetString()).IsEqualTo("start" + string.Concat(Enumerable.Repeat(" more", 50)));
        await Assert.That(headers.GetProperty("x-rep").GetString()).IsEqualTo(string.Join(", ", Enumerable.Range(0, 500).Select(i => $"v{i}")));
        await Assert.That(body.GetProperty("raw_headers").GetArrayLength()).IsEqualTo(502);
    }

    [Test]
    public async Task The_limits_follow_their_flags()
    {
        await using var upstream = StartHostile();
        await using var sidecar = await Sidecar.StartAsync("--max-response-header-count", "100", "--max-response-header-bytes", "100000");
        // /fine has 502 header lines: over a count of 100.
        var (status, body) = await sidecar.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(upstream.Url("/fine"))}");
        await Assert.That(status).IsEqualTo(502).Because(body.ToString());
        await Assert.That(body.GetProperty("message").GetString()!).Contains("more than 100 header lines");
        await using var small = await Sidecar.StartAsync("--max-response-header-bytes", "2000");
        var (bytesStatus, bytesBody) = await small.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(upstream.Url("/fine"))}");
        await Assert.That(bytesStatus).IsEqualTo(502).Because(bytesBody.ToString());
        await Assert.That(bytesBody.GetProperty("message").GetString()!).Contains("larger than 2000 bytes");
        // And a bad flag value names the flag.
        await Assert.That(async () => await Sidecar.StartAsync("--max-response-header-count", "0")).Throws<InvalidOperationException>();
    }
}
