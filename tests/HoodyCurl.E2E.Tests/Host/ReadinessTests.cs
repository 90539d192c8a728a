// Issue 12 §3: /health `ready` is true only once libcurl, the database, the job workers and the scheduler
// are up, and false again once shutdown begins; `/health?ready=1` is the readiness probe (503 while not ready).
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Host;

public class ReadinessTests
{
    [Test]
    public async Task A_started_sidecar_is_ready_and_the_probe_answers_200()
    {
        await using var sidecar = await Sidecar.StartAsync();
        foreach (var path in new[] { "/health?ready=1", "/api/v1/curl/health?ready=1", "/health" })
        {
            using var response = await sidecar.Client.GetAsync(path);
            await Assert.That((int)response.StatusCode).IsEqualTo(200);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            await Assert.That(body.RootElement.GetProperty("ready").GetBoolean()).IsTrue();
        }
        // The workers and the scheduler really run: an async job completes.
        await using var upstream = await HoodyCurl.TestUpstream.TestUpstreamServer.StartAsync();
        var id = await HoodyCurl.E2E.Tests.Jobs.JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/status/200"));
        var job = await HoodyCurl.E2E.Tests.Jobs.JobsApi.WaitAsync(sidecar.Client, id);
        await Assert.That(job.GetProperty("status").GetString()).IsEqualTo("completed");
    }

    [Test]
    public async Task Once_shutdown_begins_the_probe_answers_503_with_ready_false()
    {
        await using var upstream = await HoodyCurl.TestUpstream.TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--shutdown-timeout-secs", "30");
        // A request in flight keeps the drain going.
        var trace = $"ready-{Guid.NewGuid():N}";
        var inFlight = sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/delay/8000?trace={trace}"))}");
        await upstream.Trace(trace).Started.WaitAsync(TimeSpan.FromSeconds(10));
        // A probe whose request has begun before the shutdown is still answered by the draining server: its first
        // bytes go now, the rest once the shutdown has begun (the sidecar logs its line after readiness went false).
        using var probe = new System.Net.Sockets.TcpClient();
        await probe.ConnectAsync(System.Net.IPAddress.Loopback, sidecar.Port);
        var stream = probe.GetStream();
        await stream.WriteAsync("GET /health?ready=1 HTTP/1.1\r\n"u8.ToArray());
        await stream.FlushAsync();

        sidecar.Signal(Posix.SIGTERM);
        await sidecar.WaitForLineAsync("stopping on SIGTERM", TimeSpan.FromSeconds(10));
        await stream.WriteAsync("Host: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray());
        using var reader = new StreamReader(stream);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var answer = await reader.ReadToEndAsync(cts.Token);
        await Assert.That(answer).StartsWith("HTTP/1.1 503");
        var json = JsonDocument.Parse(answer[answer.IndexOf('{', StringComparison.Ordinal)..(answer.LastIndexOf('}') + 1)]);
        await Assert.That(json.RootElement.GetProperty("ready").GetBoolean()).IsFalse();
        try { using var _ = await inFlight; } catch (HttpRequestException) { }
    }
}
