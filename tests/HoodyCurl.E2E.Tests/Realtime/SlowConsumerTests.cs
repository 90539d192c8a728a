// A /ws subscriber that stops reading (issue 9, acceptance 6): while 10,000 job events are published
// the sidecar's memory stays bounded (the subscriber's buffer is bounded and the socket applies
// back-pressure), the slow client gets a lag notice with the number it missed once it reads again,
// and a subscriber that keeps up receives every event.
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Jobs;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Realtime;

public class SlowConsumerTests
{
    [Test]
    public async Task A_ws_client_that_stops_reading_gets_a_lag_notice_with_bounded_memory_and_others_get_everything()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-jobs", "16", "--max-pending-jobs", "10000",
            "--ws-ping-secs", "600", "--ws-drop-secs", "1200"); // the mute client must not be dropped for missing pongs
        await using var healthy = await WsClient.ConnectAsync(JobEventStreamTests.Ws(sidecar, "/ws"));

        // The slow client: a real WebSocket handshake on a socket with a tiny receive window, then silence.
        using var mute = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await mute.ConnectAsync("127.0.0.1", sidecar.Port);
        var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        await mute.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));

        // Publish at least 10,000 events: each tiny job logs jobstarted, jobprogress (1.0) and jobcompleted.
        var baseline = sidecar.Memory().Rss;
        const int jobs = 3400;
        var ids = new string[jobs];
        var next = -1;
        long peak = 0;
        var sampler = Task.Run(async () =>
        {
            while (Volatile.Read(ref next) < jobs + 16)
            {
                peak = Math.Max(peak, sidecar.Memory().Rss);
                await Task.Delay(100);
            }
        });
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < jobs)
                ids[i] = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/bytes/16"));
        })));
        await JobsApi.WaitAsync(sidecar.Client, ids[^1], 300_000);
        var messages = await healthy.WaitForAsync(m => m.Count(x => x.Str("type") == "jobcompleted") >= jobs, seconds: 300);
        Interlocked.Add(ref next, 100);
        await sampler;

        // The subscriber that kept up has every event of the log and no lag notice.
        long logged = 0;
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
        {
            var (_, body) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/jobs/{id}/events?limit=1");
            Interlocked.Add(ref logged, body.GetProperty("meta").GetProperty("total").GetInt64());
        });
        await Assert.That(logged).IsGreaterThanOrEqualTo(10_000);
        messages = await healthy.WaitForAsync(m => m.Count >= logged, seconds: 60);
        await Assert.That((long)messages.Count).IsEqualTo(logged);
        await Assert.That(messages.Any(m => m.Str("type") == "error")).IsFalse();

        // Memory stayed bounded: the mute subscriber holds at most its buffer, not 10,000 events.
        await Assert.That(peak - baseline).IsLessThan(64L * 1024 * 1024);

        // The mute client reads again: its buffered events, then the lag notice with the number missed.
        var frames = await ReadFramesAsync(mute, f => f.Any(x => x.GetProperty("type").GetString() == "error"));
        var lags = frames.Where(x => x.GetProperty("type").GetString() == "error").ToList();
        foreach (var lag in lags)
            await Assert.That(lag.GetProperty("message").GetString()).IsEqualTo($"lagged: {lag.GetProperty("missed").GetInt64()} events missed");
        var missed = lags.Sum(x => x.GetProperty("missed").GetInt64());
        var delivered = frames.Count(x => x.GetProperty("type").GetString() != "error");
        await Assert.That(missed).IsGreaterThan(0);
        await Assert.That(delivered + missed).IsEqualTo(logged);
        var metrics = await sidecar.Client.GetStringAsync("/metrics");
        await Assert.That(JobEventStreamTests.MetricValue(metrics, "hoody_curl_job_events_lagged_total{transport=\"ws\"}")).IsEqualTo(missed);
    }

    /// <summary>Reads server frames (unmasked text frames; pings skipped) after the 101 head until the condition holds.</summary>
    private static async Task<List<JsonElement>> ReadFramesAsync(Socket socket, Func<List<JsonElement>, bool> done)
    {
        var data = new List<byte>();
        var frames = new List<JsonElement>();
        var buffer = new byte[64 * 1024];
        var headDone = false;
        var offset = 0;
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!done(frames))
        {
            int n;
            try { n = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"condition not met; {frames.Count} frames read"); }
            if (n == 0) break;
            data.AddRange(buffer.AsSpan(0, n));
            if (!headDone)
            {
                var text = Encoding.ASCII.GetString([.. data]);
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end < 0) continue;
                offset = end + 4;
                headDone = true;
            }
            while (true)
            {
                if (data.Count - offset < 2) break;
                var opcode = data[offset] & 0x0F;
                long length = data[offset + 1] & 0x7F;
                var header = 2;
                if (length == 126) { if (data.Count - offset < 4) break; length = (data[offset + 2] << 8) | data[offset + 3]; header = 4; }
                else if (length == 127) { if (data.Count - offset < 10) break; length = 0; for (var i = 0; i < 8; i++) length = (length << 8) | data[offset + 2 + i]; header = 10; }
                if (data.Count - offset < header + length) break;
                if (opcode == 1)
                    frames.Add(JsonDocument.Parse(data.GetRange(offset + header, (int)length).ToArray()).RootElement.Clone());
                offset += header + (int)length;
            }
        }
        return frames;
    }
}
