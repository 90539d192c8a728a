// Sync SSE passthrough (issue 9, acceptance 3; events.md §4): a 2xx text/event-stream through
// /request, /curl or the GET bridge is relayed byte-identical as it arrives, then exactly one
// synthetic frame: `event: end` with total_bytes, or `event: error` when the upstream dies.
using System.Text;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;
using HoodyCurl.TestUpstream.Endpoints;

namespace HoodyCurl.E2E.Tests.Realtime;

public class PassthroughTests
{
    private static StringContent Body(string url, string extra = "") =>
        Api.Json($"{{\"url\":\"{System.Text.Json.JsonEncodedText.Encode(url)}\"{extra}}}");

    private static string EndFrame(long total) => $"event: end\ndata: {{\"total_bytes\":{total}}}\n\n";

    [Test]
    public async Task Events_arrive_while_the_upstream_is_still_sending_byte_identical_with_one_end_frame()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var trace = $"sse-{Guid.NewGuid():N}";
        // One event every 10 ms for 2 s.
        await using var stream = await SseClient.OpenAsync(sidecar.BaseUrl + "/api/v1/curl/request", method: HttpMethod.Post,
            content: Body(upstream.Url($"/sse?count=200&interval_ms=10&trace={trace}")));
        await Assert.That(stream.Status).IsEqualTo(200);
        await stream.WaitForAsync(f => f.Any(x => x.Event == "tick"));
        var upstreamDoneAtFirstEvent = upstream.Trace(trace).Finished.IsCompleted;
        await stream.WaitEndAsync();
        await Assert.That(upstreamDoneAtFirstEvent).IsFalse(); // the first event was relayed before the upstream ended
        await Assert.That(stream.FirstEventMs!.Value).IsLessThan(2000);

        var expected = PacedEndpoints.SseBody(200);
        await Assert.That(stream.Raw).IsEqualTo(expected + EndFrame(Encoding.UTF8.GetByteCount(expected)));
        await Assert.That(stream.Events("end").Count).IsEqualTo(1);
        await Assert.That(stream.Events("error").Count).IsEqualTo(0);
        var headers = stream.Response;
        await Assert.That(headers.Content.Headers.ContentType!.MediaType).IsEqualTo("text/event-stream");
        await Assert.That(headers.Headers.CacheControl!.ToString()).IsEqualTo("no-cache");
        await Assert.That(headers.Headers.GetValues("X-Accel-Buffering").Single()).IsEqualTo("no");
        await Assert.That(headers.Headers.TransferEncodingChunked).IsTrue();
        await Assert.That(headers.Content.Headers.ContentLength).IsNull();

        // The counter and the open-streams gauge move just after the last byte went out: polled, bounded.
        var metrics = "";
        for (var i = 0; i < 200 && !(JobEventStreamTests.MetricValue(metrics, "hoody_curl_sse_promoted_total{outcome=\"end\"}") is 1
                 && metrics.Contains("hoody_curl_sse_streams_open{kind=\"passthrough\"} 0", StringComparison.Ordinal)); i++)
        {
            if (i > 0) await Task.Delay(50);
            metrics = await sidecar.Client.GetStringAsync("/metrics");
        }
        await Assert.That(JobEventStreamTests.MetricValue(metrics, "hoody_curl_sse_promoted_total{outcome=\"end\"}")).IsEqualTo(1);
        await Assert.That(JobEventStreamTests.MetricValue(metrics, "hoody_curl_pool_bypasses_total{reason=\"promoted\"}")).IsEqualTo(1);
        await Assert.That(metrics).Contains("hoody_curl_sse_streams_open{kind=\"passthrough\"} 0");
    }

    [Test]
    public async Task An_upstream_that_dies_mid_stream_ends_with_one_error_frame()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var stream = await SseClient.OpenAsync(sidecar.BaseUrl + "/curl", method: HttpMethod.Post,
            content: Body(upstream.Url("/sse?count=50&interval_ms=5&die_after=10")));
        await Assert.That(stream.Status).IsEqualTo(200);
        await stream.WaitEndAsync();
        var relayed = PacedEndpoints.SseBody(50, dieAfter: 10);
        await Assert.That(stream.Raw).StartsWith(relayed + "event: error\ndata: ");
        var errors = stream.Events("error");
        await Assert.That(errors.Count).IsEqualTo(1);
        await Assert.That(stream.Events("end").Count).IsEqualTo(0);
        var data = errors[0].Json;
        await Assert.That(data.Str("error_type")).IsEqualTo("execution_error");
        await Assert.That(data.Str("message").Length).IsGreaterThan(0);
        await Assert.That(data.GetProperty("total_bytes").GetInt64()).IsEqualTo(Encoding.UTF8.GetByteCount(relayed));
        await Assert.That(stream.Raw.EndsWith("}\n\n", StringComparison.Ordinal)).IsTrue();
        await Assert.That(stream.Frames[^1].Event).IsEqualTo("error");
    }

    [Test]
    public async Task An_unterminated_last_event_gets_a_newline_before_the_end_frame()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var stream = await SseClient.OpenAsync(sidecar.BaseUrl + "/api/v1/curl/request", method: HttpMethod.Post,
            content: Body(upstream.Url("/sse?count=3&interval_ms=0&unterminated=1")));
        await stream.WaitEndAsync();
        var relayed = PacedEndpoints.SseBody(3, unterminated: true);
        await Assert.That(relayed.EndsWith("}\n", StringComparison.Ordinal)).IsTrue();
        await Assert.That(stream.Raw).IsEqualTo(relayed + "\n" + EndFrame(Encoding.UTF8.GetByteCount(relayed)));
        // The upstream's last event stays its own event, and the end frame is a separate one.
        await Assert.That(stream.Events("tick").Count).IsEqualTo(3);
        await Assert.That(stream.Events("end").Count).IsEqualTo(1);
    }

    [Test]
    public async Task The_get_bridge_streams_too_over_its_default_json_mode()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        foreach (var path in new[] { "/api/v1/curl/request", "/curl" })
        {
            var trace = $"bridge-{Guid.NewGuid():N}";
            await using var stream = await SseClient.OpenAsync(sidecar.BaseUrl + $"{path}?url={Api.Q(upstream.Url($"/sse?count=100&interval_ms=10&trace={trace}"))}");
            await Assert.That(stream.Status).IsEqualTo(200);
            await Assert.That(stream.Response.Content.Headers.ContentType!.MediaType).IsEqualTo("text/event-stream");
            await stream.WaitForAsync(f => f.Any(x => x.Event == "tick"));
            var upstreamDone = upstream.Trace(trace).Finished.IsCompleted;
            await stream.WaitEndAsync();
            await Assert.That(upstreamDone).IsFalse();
            var expected = PacedEndpoints.SseBody(100);
            await Assert.That(stream.Raw).IsEqualTo(expected + EndFrame(Encoding.UTF8.GetByteCount(expected)));
        }
    }

    [Test]
    public async Task Client_disconnect_aborts_the_upstream_and_non_2xx_or_no_sse_is_not_promoted()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using (var sidecar = await Sidecar.StartAsync())
        {
            var trace = $"gone-{Guid.NewGuid():N}";
            var stream = await SseClient.OpenAsync(sidecar.BaseUrl + $"/curl?url={Api.Q(upstream.Url($"/sse?count=100000&interval_ms=10&trace={trace}"))}");
            await stream.WaitForAsync(f => f.Any(x => x.Event == "tick"));
            await stream.DisposeAsync();
            await upstream.Trace(trace).Aborted.WaitAsync(TimeSpan.FromSeconds(30));
            var metrics = "";
            for (var i = 0; i < 200 && JobEventStreamTests.MetricValue(metrics, "hoody_curl_sse_promoted_total{outcome=\"cancelled\"}") is not 1; i++)
            {
                metrics = await sidecar.Client.GetStringAsync("/metrics");
                await Task.Delay(50);
            }
            await Assert.That(JobEventStreamTests.MetricValue(metrics, "hoody_curl_sse_promoted_total{outcome=\"cancelled\"}")).IsEqualTo(1);

            // A non-2xx event stream takes the normal path: no synthetic frame.
            using var response = await sidecar.Client.PostAsync("/api/v1/curl/request", Body(upstream.Url("/sse?count=2&interval_ms=0&status=503")));
            await Assert.That((int)response.StatusCode).IsEqualTo(503);
            await Assert.That(await response.Content.ReadAsStringAsync()).IsEqualTo(PacedEndpoints.SseBody(2));
        }
        await using (var sidecar = await Sidecar.StartAsync("--no-sse"))
        {
            using var response = await sidecar.Client.PostAsync("/api/v1/curl/request", Body(upstream.Url("/sse?count=2&interval_ms=0")));
            await Assert.That((int)response.StatusCode).IsEqualTo(200);
            await Assert.That(await response.Content.ReadAsStringAsync()).IsEqualTo(PacedEndpoints.SseBody(2));
        }
    }

    [Test]
    public async Task A_stream_past_sse_max_duration_ends_with_an_sse_max_duration_error()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        // Sync transfers time out after 1 s here, but a promoted stream without its own `timeout` runs to the SSE cap.
        await using var sidecar = await Sidecar.StartAsync("--sse-max-duration-secs", "3", "--default-timeout-secs", "1");
        var trace = $"long-{Guid.NewGuid():N}";
        await using var stream = await SseClient.OpenAsync(sidecar.BaseUrl + "/api/v1/curl/request", method: HttpMethod.Post,
            content: Body(upstream.Url($"/sse?count=100000&interval_ms=20&trace={trace}")));
        await stream.WaitEndAsync(seconds: 20);
        var errors = stream.Events("error");
        await Assert.That(errors.Count).IsEqualTo(1);
        await Assert.That(errors[0].Json.Str("error_type")).IsEqualTo("sse_max_duration");
        await Assert.That(stream.Frames[^1].Event).IsEqualTo("error");
        await upstream.Trace(trace).Aborted.WaitAsync(TimeSpan.FromSeconds(30));
        await Assert.That(errors[0].Json.Str("message")).Contains("--sse-max-duration-secs");
        await Assert.That(stream.Events("tick").Count).IsGreaterThan(5);
    }
}
