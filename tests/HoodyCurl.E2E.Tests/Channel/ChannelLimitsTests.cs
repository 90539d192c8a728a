// The channel's time and capacity limits (channel.md §10, §11): stream (first-byte) timeout, the shared
// --max-sse-concurrent permits, shutdown closing with 1001, and `save` streaming into storage.
using System.Net.WebSockets;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Channel;

public class ChannelLimitsTests
{
    [Test]
    public async Task No_response_within_stream_timeout_secs_is_a_stream_level_timeout()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?stream_timeout_secs=1");
        await ch.WaitAsync(f => f.Count >= 1);
        var trace = $"ch-timeout-{Guid.NewGuid():N}";
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url($"/delay/5000?trace={trace}")));
        await ch.StartAsync(2, ChannelClient.Get(upstream.Url("/bytes/3")));
        var frames = await ch.WaitStreamAsync(1, 20);
        var error = frames[^1].Json!.Value;
        await Assert.That(error.GetProperty("type").GetString()).IsEqualTo("error");
        await Assert.That(error.GetProperty("error_type").GetString()).IsEqualTo("timeout");
        await AbortDiagnostics.WaitAbortedAsync(upstream, trace, sidecar); // the transfer was aborted
        await Assert.That((await ch.WaitStreamAsync(2))[^1].Type).IsEqualTo("response.end");
    }

    [Test]
    public async Task Without_a_free_sse_permit_the_stream_gets_sse_capacity_then_response_end()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-sse-concurrent", "1");
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl);
        await ch.WaitAsync(f => f.Count >= 1);
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url("/sse?count=100&interval_ms=100")));
        await ch.WaitAsync(f => f.Any(x => x.StreamId == 1 && x.Type == "response.sse_event"));
        await ch.StartAsync(2, ChannelClient.Get(upstream.Url("/sse?count=2&interval_ms=10")));
        await ch.WaitAsync(f => f.Any(x => x.StreamId == 2 && x.Type == "response.end"));
        var two = ch.Of(2);
        await Assert.That(string.Join(",", two.Select(f => f.Type))).IsEqualTo("accepted,error,response.end");
        await Assert.That(two[1].Json!.Value.GetProperty("error_type").GetString()).IsEqualTo("sse_capacity");
        await ch.SendAsync("{\"type\":\"request.cancel\",\"stream_id\":1}");
        await Assert.That((await ch.WaitStreamAsync(1))[^1].Type).IsEqualTo("cancelled");
        // The permit is released when the cancelled stream's task ends, just after its `cancelled` frame: wait for it.
        var metrics = await sidecar.Client.GetStringAsync("/metrics");
        for (var deadline = DateTime.UtcNow.AddSeconds(10);
             !metrics.Contains("hoody_curl_sse_streams_open{kind=\"channel\"} 0", StringComparison.Ordinal) && DateTime.UtcNow < deadline;
             metrics = await sidecar.Client.GetStringAsync("/metrics"))
            await Task.Delay(20);
        await Assert.That(metrics).Contains("hoody_curl_sse_streams_open{kind=\"channel\"} 0");
    }

    [Test]
    public async Task Shutdown_closes_the_socket_with_1001()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl);
        await ch.WaitAsync(f => f.Count >= 1);
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url("/slow/100000?chunk=10&interval_ms=50")));
        sidecar.Signal(Posix.SIGTERM);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!ch.Closed && DateTime.UtcNow < deadline) await Task.Delay(100);
        await Assert.That(ch.CloseStatus).IsEqualTo(WebSocketCloseStatus.EndpointUnavailable);
        await Assert.That(await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20))).IsEqualTo(0);
    }

    [Test]
    public async Task Save_streams_the_body_into_storage_and_response_end_names_the_file()
    {
        const int size = 300_000;
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?binary=true");
        await ch.WaitAsync(f => f.Count >= 1);
        await ch.StartAsync(1, $"{{\"url\":\"{upstream.Url($"/bytes/{size}")}\",\"save\":true,\"save_path\":\"ch/blob.bin\"}}");
        var frames = await ch.WaitStreamAsync(1);
        await Assert.That(string.Join(",", frames.Select(f => f.Type))).IsEqualTo("accepted,response.start,response.end");
        var saved = frames[^1].Json!.Value.GetProperty("saved");
        await Assert.That(saved.GetProperty("size").GetInt64()).IsEqualTo(size);
        var path = saved.GetProperty("path").GetString()!;
        await Assert.That(path).EndsWith("ch/blob.bin");
        await Assert.That(path).StartsWith("by-job/");
        var bytes = await File.ReadAllBytesAsync(Path.Combine(sidecar.StorageDir, "downloads", path));
        await Assert.That(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))).IsEqualTo(Payload.Sha256Hex(size, Payload.DefaultSeed));
    }

    [Test]
    public async Task Channel_streams_and_sync_requests_share_one_max_concurrent_sync_cap()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-sync", "2");
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl);
        await ch.WaitAsync(f => f.Count >= 1);
        // Every upstream request below carries one trace id, so the upstream counts how many ran at once.
        var trace = $"shared-cap-{Guid.NewGuid():N}";
        var slowRest = sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/delay/4000?trace={trace}"))}");
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url($"/delay/4000?trace={trace}")));
        await WaitUntilAsync(() => upstream.Trace(trace).Active == 2, "both slow requests reach the upstream");
        await Assert.That(await MetricAsync(sidecar, "hoody_curl_sync_in_flight")).IsEqualTo(2);

        // The cap is full: two more channel streams queue on the socket, a sync request is refused.
        await ch.StartAsync(2, ChannelClient.Get(upstream.Url($"/delay/100?trace={trace}")));
        await ch.StartAsync(3, ChannelClient.Get(upstream.Url($"/delay/100?trace={trace}")));
        await ch.WaitAsync(f => f.Count(x => x.Type == "accepted" && x.StreamId is 2 or 3) == 2);
        await WaitUntilAsync(async () => await MetricAsync(sidecar, "hoody_curl_channel_streams_queued") == 2, "streams 2 and 3 wait for a permit");
        using (var refused = await sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/status/200?trace={trace}"))}"))
        {
            await Assert.That((int)refused.StatusCode).IsEqualTo(503);
            await Assert.That((await Api.ReadJsonAsync(refused)).GetProperty("error").GetString()).IsEqualTo("QUEUE_FULL");
        }
        await Assert.That(upstream.Trace(trace).Hits).IsEqualTo(2); // nothing queued or refused has reached the upstream

        // Permits free up: the queued streams run, and the sync door works again once all are back.
        using (var first = await slowRest) await Assert.That((int)first.StatusCode).IsEqualTo(200);
        foreach (var id in new ulong[] { 1, 2, 3 })
        {
            var frames = await ch.WaitStreamAsync(id, 30);
            await Assert.That(frames[^1].Type).IsEqualTo("response.end");
            await Assert.That(frames.First(f => f.Type == "response.start").Json!.Value.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        }
        await WaitUntilAsync(async () => await MetricAsync(sidecar, "hoody_curl_sync_in_flight") == 0, "every permit is returned");
        var (status, _) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/status/200?trace={trace}"))}");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(upstream.Trace(trace).Hits).IsEqualTo(5);
        await Assert.That(upstream.Trace(trace).MaxActive).IsEqualTo(2); // never more than the cap, both doors together
    }

    [Test]
    public async Task A_stream_waiting_for_a_sync_permit_times_out_within_stream_timeout_secs_without_reaching_the_upstream()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-sync", "1");
        var holder = $"holder-{Guid.NewGuid():N}";
        var waiter = $"waiter-{Guid.NewGuid():N}";
        var slowRest = sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/delay/6000?trace={holder}"))}");
        await upstream.Trace(holder).Started.WaitAsync(TimeSpan.FromSeconds(15));
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?stream_timeout_secs=1");
        await ch.WaitAsync(f => f.Count >= 1);
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url($"/status/200?trace={waiter}")));
        var frames = await ch.WaitStreamAsync(1, 20);
        await Assert.That(string.Join(",", frames.Select(f => f.Type))).IsEqualTo("accepted,error");
        await Assert.That(frames[^1].Json!.Value.GetProperty("error_type").GetString()).IsEqualTo("timeout");
        await Assert.That(upstream.Trace(waiter).Hits).IsEqualTo(0);
        await Assert.That(slowRest.IsCompleted).IsFalse(); // the permit was still held: the wait, not the upstream, timed out
        using (var first = await slowRest) await Assert.That((int)first.StatusCode).IsEqualTo(200);
    }

    [Test]
    public async Task A_binary_upload_streams_into_the_transfer_before_its_frame_has_fully_arrived()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?binary=true&max_frame_bytes=4194304");
        await ch.WaitAsync(f => f.Count >= 1);
        var trace = $"ch-upload-{Guid.NewGuid():N}";
        var payload = System.Security.Cryptography.RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        await ch.StartAsync(1, $"{{\"url\":\"{upstream.Url($"/echo?trace={trace}")}\",\"method\":\"PUT\"}}", binaryBody: true);
        var frame = ChannelClient.RequestBody(1, payload);
        // The first half of the one REQUEST_BODY message: the upstream request starts while the rest is unsent.
        await ch.SendBinaryFragmentAsync(frame.AsMemory(0, frame.Length / 2), end: false);
        await upstream.Trace(trace).Started.WaitAsync(TimeSpan.FromSeconds(15));
        await Assert.That(ch.Frames.Any(f => f.StreamId == 1 && f.Type is "response.start" or "response.end" or "error")).IsFalse();
        await ch.SendBinaryFragmentAsync(frame.AsMemory(frame.Length / 2), end: true);
        var frames = await ch.WaitStreamAsync(1);
        await Assert.That(frames[^1].Type).IsEqualTo("response.end");
        var echo = System.Text.Json.JsonDocument.Parse(ChannelClient.Body(frames)).RootElement;
        await Assert.That(echo.GetProperty("body_length").GetInt64()).IsEqualTo(payload.Length);
        await Assert.That(echo.GetProperty("body_sha256").GetString()).IsEqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload)));
    }

    [Test]
    public async Task A_promoted_stream_past_sse_max_duration_secs_gets_sse_max_duration_and_the_transfer_is_aborted()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--sse-max-duration-secs", "1");
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl);
        await ch.WaitAsync(f => f.Count >= 1);
        var trace = $"ch-sse-max-{Guid.NewGuid():N}";
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url($"/sse?count=1000&interval_ms=100&trace={trace}")));
        var frames = await ch.WaitStreamAsync(1, 20);
        await Assert.That(frames[^1].Type).IsEqualTo("error");
        await Assert.That(frames[^1].Json!.Value.GetProperty("error_type").GetString()).IsEqualTo("sse_max_duration");
        await Assert.That(frames.Count(f => f.Type == "response.sse_event")).IsGreaterThan(0);
        await AbortDiagnostics.WaitAbortedAsync(upstream, trace, sidecar);
    }

    [Test]
    [Arguments(false)]
    [Arguments(true)]
    public async Task Under_no_sse_hello_says_so_and_an_event_stream_is_an_ordinary_body(bool binary)
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--no-sse");
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, binary ? "?binary=true" : "");
        var hello = (await ch.WaitAsync(f => f.Count >= 1))[0].Json!.Value;
        await Assert.That(hello.GetProperty("features").GetProperty("sse").GetBoolean()).IsFalse();
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url("/sse?count=3&interval_ms=10")));
        var frames = await ch.WaitStreamAsync(1);
        await Assert.That(frames[^1].Type).IsEqualTo("response.end");
        await Assert.That(frames.Any(f => f.Type == "response.sse_event")).IsFalse();
        await Assert.That(frames.First(f => f.Type == "response.start").Json!.Value.TryGetProperty("is_sse", out _)).IsFalse();
        var body = System.Text.Encoding.UTF8.GetString(ChannelClient.Body(frames));
        await Assert.That(body).Contains("event: tick");
        await Assert.That(body).Contains("data: {\"i\":3}");
    }

    private static async Task<double> MetricAsync(Sidecar sidecar, string series) =>
        HoodyCurl.E2E.Tests.Realtime.JobEventStreamTests.MetricValue(await sidecar.Client.GetStringAsync("/metrics"), series);

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(15); !await condition(); await Task.Delay(20))
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within 15 s: {what}");
    }
}
