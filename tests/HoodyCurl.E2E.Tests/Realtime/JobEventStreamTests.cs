// /ws and /sse against the real binary (issue 9, acceptance 1): both see jobstarted then jobcompleted
// with the fields of events.md, the job_id filter drops other jobs, a cancelled job says so, /sse
// heartbeats when idle, --no-sse turns it off, /ws pings and drops a peer that never answers.
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Jobs;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Realtime;

public class JobEventStreamTests
{
    internal static string Ws(Sidecar sidecar, string path) => $"ws://127.0.0.1:{sidecar.Port}{path}";

    [Test]
    public async Task Ws_and_sse_see_jobstarted_then_jobcompleted_with_the_contract_fields()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ws = await WsClient.ConnectAsync(Ws(sidecar, "/ws"));
        await using var sse = await SseClient.OpenAsync(sidecar.BaseUrl + "/api/v1/curl/sse");
        await Assert.That(sse.Status).IsEqualTo(200);
        await Assert.That(sse.Response.Content.Headers.ContentType!.MediaType).IsEqualTo("text/event-stream");
        await Assert.That(sse.Response.Headers.CacheControl!.NoCache).IsTrue();
        await sse.WaitForAsync(f => f.Count >= 1);
        await Assert.That(sse.Raw.StartsWith("retry: 5000\n\n", StringComparison.Ordinal)).IsTrue();
        await using var wsAlias = await WsClient.ConnectAsync(Ws(sidecar, "/api/v1/curl/ws"));
        await using var sseAlias = await SseClient.OpenAsync(sidecar.BaseUrl + "/sse");
        await sseAlias.WaitForAsync(f => f.Count >= 1);

        var id = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/bytes/64"), ",\"job_name\":\"nightly-export\"");
        foreach (var client in new[] { ws, wsAlias })
        {
            var messages = await client.WaitForAsync(m => m.Any(x => x.Str("type") == "jobcompleted" && x.Str("job_id") == id));
            var mine = messages.Where(m => m.Has("job_id") && m.Str("job_id") == id).ToList();
            await Assert.That(mine[0].Str("type")).IsEqualTo("jobstarted");
            await Assert.That(mine[0].Str("name")).IsEqualTo("nightly-export");
            var completed = mine.Single(m => m.Str("type") == "jobcompleted");
            await Assert.That(completed.Str("status")).IsEqualTo("completed");
            await Assert.That(mine.IndexOf(completed)).IsEqualTo(mine.Count - 1);
            foreach (var progress in mine.Where(m => m.Str("type") == "jobprogress"))
                await Assert.That(progress.GetProperty("progress").GetDouble()).IsBetween(0.0, 1.0);
        }

        var log = await EventLogAsync(sidecar, id);
        foreach (var client in new[] { sse, sseAlias })
        {
            var frames = await client.WaitForAsync(f => f.Any(x => x.Event == "jobcompleted" && x.Json.Str("job_id") == id));
            var events = frames.Where(f => f.Event is not null).ToList();
            await Assert.That(events[0].Event).IsEqualTo("jobstarted");
            await Assert.That(events[0].Json.Str("name")).IsEqualTo("nightly-export");
            await Assert.That(events[0].Json.Has("type")).IsFalse();
            await Assert.That(events[^1].Event).IsEqualTo("jobcompleted");
            await Assert.That(events[^1].Json.Str("status")).IsEqualTo("completed");
            // decisions E4: the SSE ids are the durable event ids of /jobs/{id}/events, in order.
            await Assert.That(events.Select(e => long.Parse(e.Id!)).ToArray()).IsEquivalentTo(log.Select(e => e.Id).ToArray(), TUnit.Assertions.Enums.CollectionOrdering.Matching);
            await Assert.That(events.Select(e => e.Event!).ToArray()).IsEquivalentTo(log.Select(e => e.Type).ToArray(), TUnit.Assertions.Enums.CollectionOrdering.Matching);
        }

        var metrics = await sidecar.Client.GetStringAsync("/metrics");
        await Assert.That(metrics).Contains("hoody_curl_ws_subscribers 2");
        await Assert.That(metrics).Contains("hoody_curl_sse_streams_open{kind=\"jobs\"} 2");
        await Assert.That(MetricValue(metrics, "hoody_curl_job_events_delivered_total{transport=\"ws\"}")).IsGreaterThanOrEqualTo(4);
        await Assert.That(MetricValue(metrics, "hoody_curl_job_events_delivered_total{transport=\"sse\"}")).IsGreaterThanOrEqualTo(4);
    }

    [Test]
    public async Task Job_id_filter_drops_other_jobs_events_and_a_cancelled_job_says_cancelled()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        // One worker: a blocker runs first, so A and B are still pending when the filtered clients connect.
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-jobs", "1");
        await using var all = await WsClient.ConnectAsync(Ws(sidecar, "/ws"));
        var blocker = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/delay/30000"));
        var a = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/delay/30000"), ",\"job_name\":\"to-cancel\"");
        var b = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/bytes/10"));
        await using var ws = await WsClient.ConnectAsync(Ws(sidecar, $"/ws?job_id={a}"));
        await using var sse = await SseClient.OpenAsync(sidecar.BaseUrl + $"/sse?job_id={a}");
        // The blocker ends only now that both filtered clients listen, so A's start cannot slip past them.
        var (blockerCancel, _) = await sidecar.Client.PostJsonAsync($"/api/v1/curl/jobs/{blocker}/cancel", "{}");
        await Assert.That(blockerCancel).IsEqualTo(200);

        await ws.WaitForAsync(m => m.Any(x => x.Str("type") == "jobstarted"));
        var (status, _) = await sidecar.Client.PostJsonAsync($"/api/v1/curl/jobs/{a}/cancel", "{}");
        await Assert.That(status).IsEqualTo(200);
        var wsSeen = await ws.WaitForAsync(m => m.Any(x => x.Str("type") == "jobcompleted"));
        await Assert.That(wsSeen.Single(x => x.Str("type") == "jobcompleted").Str("status")).IsEqualTo("cancelled");
        var sseSeen = await sse.WaitForAsync(f => f.Any(x => x.Event == "jobcompleted"));
        await Assert.That(sseSeen.Single(x => x.Event == "jobcompleted").Json.Str("status")).IsEqualTo("cancelled");

        // B runs after A; once the unfiltered client has B's completion, the filtered ones had their chance.
        await all.WaitForAsync(m => m.Any(x => x.Str("type") == "jobcompleted" && x.Str("job_id") == b));
        await Task.Delay(300);
        await Assert.That(ws.Messages.All(m => m.Str("job_id") == a)).IsTrue();
        await Assert.That(sse.Frames.Where(f => f.Data is not null).All(f => f.Json.Str("job_id") == a)).IsTrue();
        await Assert.That(all.Messages.Any(m => m.Str("job_id") == blocker)).IsTrue();
    }

    [Test]
    public async Task Idle_sse_sends_heartbeat_comments_and_no_sse_turns_the_route_off()
    {
        await using (var sidecar = await Sidecar.StartAsync("--sse-heartbeat-secs", "1"))
        {
            await using var sse = await SseClient.OpenAsync(sidecar.BaseUrl + "/sse");
            var frames = await sse.WaitForAsync(f => f.Count(x => x.Comment is not null) >= 2, seconds: 15);
            await Assert.That(sse.Raw).StartsWith("retry: 5000\n\n:\n\n:\n\n");
            await Assert.That(frames.Where(f => f.Comment is not null).All(f => f.Comment == "")).IsTrue();
        }
        await using (var sidecar = await Sidecar.StartAsync("--no-sse"))
        {
            foreach (var path in new[] { "/sse", "/api/v1/curl/sse" })
            {
                var (status, body) = await sidecar.Client.GetJsonAsync(path);
                await Assert.That(status).IsEqualTo(404);
                await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("NOT_FOUND");
            }
            // /ws is not SSE: it stays on.
            await using var ws = await WsClient.ConnectAsync(Ws(sidecar, "/ws"));
            await Assert.That(ws.State).IsEqualTo(System.Net.WebSockets.WebSocketState.Open);
        }
    }

    [Test]
    public async Task Bad_query_and_plain_http_on_ws_are_400()
    {
        await using var sidecar = await Sidecar.StartAsync();
        var (status, body) = await sidecar.Client.GetJsonAsync("/sse?after=abc");
        await Assert.That(status).IsEqualTo(400);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("VALIDATION_ERROR");
        (status, body) = await sidecar.Client.GetJsonAsync("/ws");
        await Assert.That(status).IsEqualTo(400);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("VALIDATION_ERROR");
    }

    [Test]
    public async Task Ws_pings_and_drops_a_peer_that_never_answers_while_a_live_one_stays()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--ws-ping-secs", "1", "--ws-drop-secs", "3");
        await using var live = await WsClient.ConnectAsync(Ws(sidecar, "/ws"));
        using var mute = new TcpClient();
        await mute.ConnectAsync("127.0.0.1", sidecar.Port);
        var stream = mute.GetStream();
        var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        // Read everything until the server closes: the 101, then ping frames (opcode 9), never answered.
        var received = new MemoryStream();
        var buffer = new byte[4096];
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, limit.Token)) > 0) received.Write(buffer, 0, n);
        }
        catch (IOException) { } // reset counts as dropped
        await Assert.That(limit.IsCancellationRequested).IsFalse();
        var bytes = received.ToArray();
        var headEnd = Encoding.ASCII.GetString(bytes).IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        await Assert.That(Encoding.ASCII.GetString(bytes, 0, headEnd)).StartsWith("HTTP/1.1 101");
        await Assert.That(headEnd < bytes.Length && bytes[headEnd] == 0x89).IsTrue(); // FIN + ping
        await Assert.That(clock.Elapsed.TotalSeconds).IsGreaterThan(1.5);

        // The client that answers pings is still connected well past the drop interval and gets events.
        var id = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/bytes/1"));
        await live.WaitForAsync(m => m.Any(x => x.Str("type") == "jobcompleted" && x.Str("job_id") == id));
        await Assert.That(live.State).IsEqualTo(System.Net.WebSockets.WebSocketState.Open);
    }

    [Test]
    public async Task Open_streams_do_not_hold_a_graceful_shutdown()
    {
        var sidecar = await Sidecar.StartAsync(); // --shutdown-timeout-secs 30: the streams must end long before
        try
        {
            await using var ws = await WsClient.ConnectAsync(Ws(sidecar, "/ws"));
            await using var sse = await SseClient.OpenAsync(sidecar.BaseUrl + "/sse");
            await sse.WaitForAsync(f => f.Count >= 1);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var code = await sidecar.StopAsync(TimeSpan.FromSeconds(60));
            await Assert.That(code).IsEqualTo(0);
            await Assert.That(clock.Elapsed.TotalSeconds).IsLessThan(15);
            await sse.WaitEndAsync(seconds: 5);
        }
        finally
        {
            await sidecar.DisposeAsync();
        }
    }

    internal sealed record LogEvent(long Id, string Type, string JobId);

    internal static async Task<List<LogEvent>> EventLogAsync(Sidecar sidecar, string jobId)
    {
        var (status, body) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/jobs/{jobId}/events");
        if (status != 200) throw new InvalidOperationException($"events answered {status}: {body}");
        return [.. body.GetProperty("items").EnumerateArray().Select(e => new LogEvent(e.GetProperty("id").GetInt64(), e.GetProperty("type").GetString()!, jobId))];
    }

    internal static double MetricValue(string exposition, string series)
    {
        foreach (var line in exposition.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal)) return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return double.NaN;
    }
}
