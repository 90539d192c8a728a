// One process-wide --max-sse-concurrent (issue 9, acceptance 4; events.md §3.1, §4.2): job /sse
// subscribers and promoted passthroughs share the permits; the next stream gets 503 SSE_CAPACITY with
// Retry-After: 5 (and its upstream transfer is aborted); a permit comes back when a client leaves.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Realtime;

public class CapacityTests
{
    [Test]
    public async Task The_fifth_stream_gets_503_with_retry_after_and_a_disconnect_frees_a_permit()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-sse-concurrent", "4");
        string Long(string trace) => sidecar.BaseUrl + $"/curl?url={Api.Q(upstream.Url($"/sse?count=100000&interval_ms=50&trace={trace}"))}";

        var open = new List<SseClient>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var s = await SseClient.OpenAsync(Long($"cap-{i}-{Guid.NewGuid():N}"));
                await Assert.That(s.Status).IsEqualTo(200);
                open.Add(s);
            }
            for (var i = 0; i < 2; i++)
            {
                var s = await SseClient.OpenAsync(sidecar.BaseUrl + "/sse");
                await Assert.That(s.Status).IsEqualTo(200);
                open.Add(s);
            }

            // A fifth passthrough: refused, and its upstream transfer aborted.
            var refusedTrace = $"cap-refused-{Guid.NewGuid():N}";
            using (var refused = await sidecar.Client.GetAsync(Long(refusedTrace)))
            {
                await Assert.That((int)refused.StatusCode).IsEqualTo(503);
                await Assert.That(refused.Headers.RetryAfter!.Delta).IsEqualTo(TimeSpan.FromSeconds(5));
                var body = await Api.ReadJsonAsync(refused);
                await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("SSE_CAPACITY");
                await Assert.That(body.GetProperty("code").GetString()).IsEqualTo("SSE_CAPACITY");
            }
            await upstream.Trace(refusedTrace).Aborted.WaitAsync(TimeSpan.FromSeconds(30));
            // A fifth job subscriber: refused the same way.
            using (var refused = await sidecar.Client.GetAsync("/api/v1/curl/sse"))
            {
                await Assert.That((int)refused.StatusCode).IsEqualTo(503);
                await Assert.That(refused.Headers.RetryAfter!.Delta).IsEqualTo(TimeSpan.FromSeconds(5));
            }
            var metrics = await sidecar.Client.GetStringAsync("/metrics");
            await Assert.That(JobEventStreamTests.MetricValue(metrics, "hoody_curl_sse_capacity_rejections_total{kind=\"passthrough\"}")).IsEqualTo(1);
            await Assert.That(JobEventStreamTests.MetricValue(metrics, "hoody_curl_sse_capacity_rejections_total{kind=\"jobs\"}")).IsEqualTo(1);

            // One client leaves: its permit comes back and the next stream is served.
            await open[0].DisposeAsync();
            open.RemoveAt(0);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            SseClient? next = null;
            while (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                var attempt = await SseClient.OpenAsync(Long($"cap-next-{Guid.NewGuid():N}"));
                if (attempt.Status == 200) { next = attempt; break; }
                await attempt.DisposeAsync();
                await Task.Delay(50);
            }
            await Assert.That(next).IsNotNull();
            open.Add(next!);
            await next!.WaitForAsync(f => f.Any(x => x.Event == "tick"));
        }
        finally
        {
            foreach (var s in open) await s.DisposeAsync();
        }
    }
}
