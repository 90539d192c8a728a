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
        await upstream.Trace(trace).Aborted.WaitAsync(TimeSpan.FromSeconds(10)); // the transfer was aborted
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
}
