// The request channel (issue 10, channel.md): the §13 reference sequences frame for frame, against the
// published binary and the real test upstream, through a plain ClientWebSocket.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Realtime;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Channel;

public class ChannelProtocolTests
{
    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static async Task AssertEnd(ChannelFrame end, ulong id)
    {
        await Assert.That(end.Type).IsEqualTo("response.end");
        await Assert.That(end.StreamId).IsEqualTo(id);
        var json = end.Json!.Value;
        await Assert.That(json.GetProperty("timing").GetProperty("total").GetDouble()).IsGreaterThanOrEqualTo(0);
        await Assert.That(json.GetProperty("metadata").GetProperty("size_download").GetInt64()).IsGreaterThanOrEqualTo(0);
    }

    [Test]
    public async Task Hello_says_cache_when_the_response_cache_is_on()
    {
        await using var sidecar = await Sidecar.StartAsync(HoodyCurl.E2E.Tests.Cache.CacheEnvironment.CacheFlags);
        await using var text = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "");
        var hello = (await text.WaitAsync(f => f.Count >= 1))[0].Json!.Value;
        await Assert.That(hello.GetProperty("features").GetProperty("cache").GetBoolean()).IsTrue();
    }

    [Test]
    public async Task Hello_comes_first_with_version_limits_and_features_and_ping_is_answered()
    {
        await using var sidecar = await Sidecar.StartAsync();
        await using var text = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?token=ignored");
        var hello = (await text.WaitAsync(f => f.Count >= 1))[0].Json!.Value;
        await Assert.That(hello.GetProperty("type").GetString()).IsEqualTo("hello");
        await Assert.That(hello.GetProperty("version").GetInt32()).IsEqualTo(2);
        await Assert.That(hello.GetProperty("connection_id").GetString()!.Length).IsGreaterThan(0);
        var limits = hello.GetProperty("limits");
        await Assert.That(limits.GetProperty("max_concurrent_streams").GetInt32()).IsEqualTo(64);
        await Assert.That(limits.GetProperty("max_queue").GetInt32()).IsEqualTo(128);
        await Assert.That(limits.GetProperty("max_frame_bytes").GetInt32()).IsEqualTo(1048576);
        await Assert.That(limits.GetProperty("max_request_bytes").GetInt32()).IsEqualTo(16777216);
        await Assert.That(limits.GetProperty("chunk_bytes").GetInt32()).IsEqualTo(65536);
        await Assert.That(limits.GetProperty("stream_timeout_secs").GetInt32()).IsEqualTo(300);
        await Assert.That(limits.GetProperty("idle_timeout_secs").GetInt32()).IsEqualTo(60);
        await Assert.That(limits.GetProperty("max_outbound_messages").GetInt32()).IsEqualTo(1024);
        var features = hello.GetProperty("features");
        await Assert.That(features.GetProperty("binary_frames").GetBoolean()).IsFalse();
        await Assert.That(features.GetProperty("sse").GetBoolean()).IsTrue();
        await Assert.That(features.GetProperty("cache").GetBoolean()).IsFalse();
        await Assert.That(features.GetProperty("buffered").GetBoolean()).IsTrue();
        await text.SendAsync("{\"type\":\"ping\"}");
        var frames = await text.WaitAsync(f => f.Count >= 2);
        await Assert.That(frames[1].Json!.Value.GetRawText()).IsEqualTo("{\"type\":\"pong\"}");

        // Aliases, clamping to the hard caps, binary=1.
        await using var binary = await ChannelClient.ConnectAsync(sidecar.BaseUrl,
            "?binary=1&max_pool=7&max_queue=99999&chunk_bytes=5000000&max_frame_bytes=99999999999999999999999&idle_timeout_secs=5000&max_outbound_messages=9000&stream_timeout_secs=10");
        var hello2 = (await binary.WaitAsync(f => f.Count >= 1))[0].Json!.Value;
        var l2 = hello2.GetProperty("limits");
        await Assert.That(hello2.GetProperty("features").GetProperty("binary_frames").GetBoolean()).IsTrue();
        await Assert.That(l2.GetProperty("max_concurrent_streams").GetInt32()).IsEqualTo(7);
        await Assert.That(l2.GetProperty("max_queue").GetInt32()).IsEqualTo(4096);
        await Assert.That(l2.GetProperty("chunk_bytes").GetInt32()).IsEqualTo(1048576);
        await Assert.That(l2.GetProperty("max_frame_bytes").GetInt64()).IsEqualTo(16777216);
        await Assert.That(l2.GetProperty("idle_timeout_secs").GetInt32()).IsEqualTo(3600);
        await Assert.That(l2.GetProperty("max_outbound_messages").GetInt32()).IsEqualTo(8192);
        await Assert.That(l2.GetProperty("stream_timeout_secs").GetInt32()).IsEqualTo(10);
        await using var precedence = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?max_concurrent_streams=3&max_concurrent=5&max_pool=9");
        var l3 = (await precedence.WaitAsync(f => f.Count >= 1))[0].Json!.Value.GetProperty("limits");
        await Assert.That(l3.GetProperty("max_concurrent_streams").GetInt32()).IsEqualTo(3);
    }

    [Test]
    [Arguments("max_queue=0")]
    [Arguments("chunk_bytes=-5")]
    [Arguments("max_concurrent=abc")]
    [Arguments("idle_timeout_secs=1.5")]
    public async Task An_invalid_tunable_is_400_before_the_upgrade(string query)
    {
        await using var sidecar = await Sidecar.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/curl/channel?" + query);
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        using var response = await sidecar.Client.SendAsync(request);
        await Assert.That((int)response.StatusCode).IsEqualTo(400);
        var body = await Api.ReadJsonAsync(response);
        await Assert.That(body.GetProperty("code").GetString()).IsEqualTo("VALIDATION_ERROR");
        await Assert.That(body.GetProperty("message").GetString()!).Contains(query.Split('=')[0]);
    }

    [Test]
    public async Task Text_socket_small_json_is_hello_accepted_start_body_end()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl);
        await ch.WaitAsync(f => f.Count >= 1);
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url("/bytes/2")));
        var frames = await ch.WaitStreamAsync(1);
        await Assert.That(string.Join(",", frames.Select(f => f.Type))).IsEqualTo("accepted,response.start,response.body,response.end");
        var start = frames[1].Json!.Value;
        await Assert.That(start.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(start.GetProperty("body_bytes").GetInt64()).IsEqualTo(2);
        await Assert.That(start.GetProperty("content_type").GetString()).IsEqualTo("application/octet-stream");
        await Assert.That(start.GetProperty("effective_url").GetString()).IsEqualTo(upstream.Url("/bytes/2"));
        await Assert.That(start.GetProperty("headers").GetProperty("content-length").GetString()).IsEqualTo("2");
        await Assert.That(start.GetProperty("raw_headers").GetArrayLength()).IsGreaterThan(0);
        await Assert.That(start.TryGetProperty("is_sse", out _)).IsFalse();
        var body = frames[2].Json!.Value;
        await Assert.That(body.GetProperty("offset").GetInt64()).IsEqualTo(0);
        await Assert.That(body.GetProperty("encoding").GetString()).IsEqualTo("base64");
        await Assert.That(Convert.FromBase64String(body.GetProperty("data").GetString()!)).IsEquivalentTo(Payload.Create(2));
        await AssertEnd(frames[3], 1);
        await Assert.That(frames.Any(f => f.IsBinary)).IsFalse();
    }

    [Test]
    [Arguments(false)]
    [Arguments(true)]
    public async Task An_8_MiB_body_arrives_whole_in_both_modes(bool binary)
    {
        const int size = 8 * 1024 * 1024;
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, binary ? "?binary=true" : "");
        await ch.WaitAsync(f => f.Count >= 1);
        await ch.StartAsync(5, ChannelClient.Get(upstream.Url($"/stream-bytes/{size}")));
        var frames = await ch.WaitStreamAsync(5, 120);
        await Assert.That(frames[0].Type).IsEqualTo("accepted");
        await Assert.That(frames[1].Type).IsEqualTo("response.start");
        await Assert.That(frames[^1].Type).IsEqualTo("response.end");
        var bodyFrames = frames.Skip(2).Take(frames.Count - 3).ToList();
        await Assert.That(bodyFrames.All(f => f.IsBinary == binary)).IsTrue();
        if (binary)
        {
            // Streamed as it arrives (no Content-Length): frames of at most chunk_bytes, then an empty LAST.
            await Assert.That(frames[1].Json!.Value.GetProperty("body_bytes").GetInt64()).IsEqualTo(0);
            await Assert.That(bodyFrames.All(f => f.Kind == 1 && f.BinaryStream == 5 && f.Payload.Length <= 65536)).IsTrue();
            await Assert.That(bodyFrames.Take(bodyFrames.Count - 1).All(f => f.Flags == 0 && f.Payload.Length > 0)).IsTrue();
            await Assert.That(bodyFrames[^1].Flags).IsEqualTo((ushort)1);
            await Assert.That(bodyFrames[^1].Payload.Length).IsEqualTo(0);
        }
        else
        {
            await Assert.That(bodyFrames.Count).IsEqualTo(size / 65536);
            long offset = 0;
            foreach (var f in bodyFrames)
            {
                await Assert.That(f.Json!.Value.GetProperty("offset").GetInt64()).IsEqualTo(offset);
                offset += Convert.FromBase64String(f.Json!.Value.GetProperty("data").GetString()!).Length;
            }
            await Assert.That(frames[1].Json!.Value.GetProperty("body_bytes").GetInt64()).IsEqualTo(size);
        }
        var body = ChannelClient.Body(bodyFrames);
        await Assert.That(body.Length).IsEqualTo(size);
        await Assert.That(Hex(body)).IsEqualTo(Payload.Sha256Hex(size, Payload.DefaultSeed));
    }

    [Test]
    public async Task Binary_upload_reaches_the_upstream_verbatim_and_text_upload_goes_through_data()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?binary=true&max_frame_bytes=4194304");
        await ch.WaitAsync(f => f.Count >= 1);
        var payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        await ch.StartAsync(3, $"{{\"url\":\"{upstream.Url("/echo")}\",\"method\":\"PUT\",\"headers\":{{\"content-type\":\"application/octet-stream\"}}}}", binaryBody: true);
        await ch.SendBinaryAsync(ChannelClient.RequestBody(3, payload));
        var frames = await ch.WaitStreamAsync(3);
        await Assert.That(frames[0].Type).IsEqualTo("accepted");
        await Assert.That(frames[1].Type).IsEqualTo("response.start");
        await Assert.That(frames[^1].Type).IsEqualTo("response.end");
        var echo = JsonDocument.Parse(ChannelClient.Body(frames)).RootElement;
        await Assert.That(echo.GetProperty("method").GetString()).IsEqualTo("PUT");
        await Assert.That(echo.GetProperty("body_length").GetInt64()).IsEqualTo(payload.Length);
        await Assert.That(echo.GetProperty("body_sha256").GetString()).IsEqualTo(Hex(payload));

        await using var text = await ChannelClient.ConnectAsync(sidecar.BaseUrl);
        await text.WaitAsync(f => f.Count >= 1);
        await text.StartAsync(4, $"{{\"url\":\"{upstream.Url("/echo")}\",\"method\":\"POST\",\"data\":\"héllo\"}}");
        var t = await text.WaitStreamAsync(4);
        var echo2 = JsonDocument.Parse(ChannelClient.Body(t)).RootElement;
        await Assert.That(echo2.GetProperty("body").GetString()).IsEqualTo("héllo");
    }

    [Test]
    public async Task Cancel_by_request_cancel_and_by_socket_close_aborts_the_transfer()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?binary=true");
        await ch.WaitAsync(f => f.Count >= 1);
        var trace = $"ch-cancel-{Guid.NewGuid():N}";
        await ch.StartAsync(5, ChannelClient.Get(upstream.Url($"/slow/100000?chunk=10&interval_ms=50&trace={trace}")));
        await ch.WaitAsync(f => f.Any(x => x.StreamId == 5 && x.IsBinary));
        await ch.SendAsync("{\"type\":\"request.cancel\",\"stream_id\":5}");
        var frames = await ch.WaitStreamAsync(5);
        await Assert.That(frames[^1].Json!.Value.GetRawText()).IsEqualTo("{\"type\":\"cancelled\",\"stream_id\":5}");
        await AbortDiagnostics.WaitAbortedAsync(upstream, trace, sidecar);
        // A late cancel for a finished or unknown stream is ignored silently; the socket goes on.
        await ch.SendAsync("{\"type\":\"request.cancel\",\"stream_id\":5}");
        await ch.SendAsync("{\"type\":\"request.cancel\",\"stream_id\":999}");
        await ch.SendAsync("{\"type\":\"ping\"}");
        await ch.WaitAsync(f => f.Any(x => x.Type == "pong"));
        await Assert.That(ch.Frames.Count(x => x.Type == "error")).IsEqualTo(0);

        // Socket close: every transfer of the socket is aborted.
        var traceA = $"ch-close-a-{Guid.NewGuid():N}";
        var traceB = $"ch-close-b-{Guid.NewGuid():N}";
        await using var other = await ChannelClient.ConnectAsync(sidecar.BaseUrl);
        await other.WaitAsync(f => f.Count >= 1);
        await other.StartAsync(1, ChannelClient.Get(upstream.Url($"/slow/100000?chunk=10&interval_ms=50&trace={traceA}")));
        await other.StartAsync(2, ChannelClient.Get(upstream.Url($"/slow/100000?chunk=10&interval_ms=50&trace={traceB}")));
        await upstream.Trace(traceA).Started.WaitAsync(TimeSpan.FromSeconds(10));
        await upstream.Trace(traceB).Started.WaitAsync(TimeSpan.FromSeconds(10));
        await other.CloseAsync();
        await upstream.Trace(traceA).Aborted.WaitAsync(TimeSpan.FromSeconds(30));
        await upstream.Trace(traceB).Aborted.WaitAsync(TimeSpan.FromSeconds(30));
        // The outcome is counted when the stream's task ends, just after the upstream saw the abort: wait for it.
        var metrics = await sidecar.Client.GetStringAsync("/metrics");
        for (var deadline = DateTime.UtcNow.AddSeconds(10);
             JobEventStreamTests.MetricValue(metrics, "hoody_curl_channel_streams_total{outcome=\"cancelled\"}") < 1 && DateTime.UtcNow < deadline;
             metrics = await sidecar.Client.GetStringAsync("/metrics"))
            await Task.Delay(20);
        await Assert.That(JobEventStreamTests.MetricValue(metrics, "hoody_curl_channel_streams_total{outcome=\"cancelled\"}")).IsEqualTo(1);
    }

    [Test]
    [Arguments(false)]
    [Arguments(true)]
    public async Task Sse_is_promoted_to_typed_events(bool binary)
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, binary ? "?binary=true" : "");
        await ch.WaitAsync(f => f.Count >= 1);
        await ch.StartAsync(9, ChannelClient.Get(upstream.Url("/sse?count=3&interval_ms=10")));
        var frames = await ch.WaitStreamAsync(9);
        await Assert.That(string.Join(",", frames.Select(f => f.Type)))
            .IsEqualTo("accepted,response.start,response.sse_event,response.sse_event,response.sse_event,response.end");
        await Assert.That(frames[1].Json!.Value.GetProperty("is_sse").GetBoolean()).IsTrue();
        for (var i = 0; i < 3; i++)
        {
            var e = frames[2 + i].Json!.Value;
            await Assert.That(e.GetProperty("seq").GetInt64()).IsEqualTo(i);
            await Assert.That(e.GetProperty("event").GetString()).IsEqualTo("tick");
            await Assert.That(e.GetProperty("data").GetString()).IsEqualTo($"{{\"i\":{i + 1}}}");
            await Assert.That(e.GetProperty("id").GetString()).IsEqualTo($"{i + 1}");
        }
        await Assert.That(frames[^1].Json!.Value.GetProperty("sse_events").GetInt64()).IsEqualTo(3);
    }

    [Test]
    public async Task A_validation_error_and_an_execution_error_fail_only_their_stream()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?binary=true");
        await ch.WaitAsync(f => f.Count >= 1);
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url("/slow/2000?chunk=100&interval_ms=50")));
        await ch.StartAsync(2, $"{{\"url\":\"{upstream.Url("/bytes/1")}\",\"proxy\":\"http://x\"}}");
        await ch.StartAsync(3, $"{{\"url\":\"{upstream.Url("/bytes/1")}\",\"bogus_field\":1}}");
        await ch.StartAsync(4, ChannelClient.Get($"http://127.0.0.1:{Sidecar.FreePort()}/"));
        await ch.StartAsync(5, ChannelClient.Get("ftp://example.com/"));
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url("/bytes/1"))); // duplicate active id
        await ch.SendAsync("{\"type\":\"nope\",\"stream_id\":77}");
        await ch.WaitAsync(f => f.Any(x => x.StreamId == 1 && x.Type == "response.end") && f.Any(x => x.StreamId == 4 && x.Type == "error"));
        var one = ch.Of(1);
        var errors = ch.Frames.Where(f => f.Type == "error").ToList();
        string TypeOf(ulong id) => errors.Single(e => e.StreamId == id).Json!.Value.GetProperty("error_type").GetString()!;
        await Assert.That(TypeOf(2)).IsEqualTo("validation_error");
        await Assert.That(TypeOf(3)).IsEqualTo("validation_error");
        await Assert.That(TypeOf(4)).IsEqualTo("execution_error");
        await Assert.That(TypeOf(5)).IsEqualTo("validation_error");
        await Assert.That(TypeOf(77)).IsEqualTo("protocol_error");
        await Assert.That(errors.Count(e => e.StreamId == 1)).IsEqualTo(1);
        await Assert.That(errors.Single(e => e.StreamId == 1).Json!.Value.GetProperty("error_type").GetString()).IsEqualTo("protocol_error");
        await Assert.That(errors.All(e => e.StreamId is not null)).IsTrue();
        // Stream 1 went on to the end with its whole body.
        await Assert.That(one[^1].Type).IsEqualTo("response.end");
        await Assert.That(ChannelClient.Body(one).Length).IsEqualTo(2000);
        await Assert.That(ch.Frames.Count(f => f.Type == "accepted")).IsEqualTo(2); // streams 1 and 4 only
    }

    [Test]
    public async Task Redirects_are_followed_and_gzip_is_decoded_on_text_and_passed_through_on_binary()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var text = await ChannelClient.ConnectAsync(sidecar.BaseUrl);
        await using var binary = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?binary=true");
        await text.WaitAsync(f => f.Count >= 1);
        await binary.WaitAsync(f => f.Count >= 1);

        await text.StartAsync(1, ChannelClient.Get(upstream.Url("/redirect/2")));
        var r = await text.WaitStreamAsync(1);
        await Assert.That(r[1].Json!.Value.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(r[1].Json!.Value.GetProperty("effective_url").GetString()).IsNotEqualTo(upstream.Url("/redirect/2"));
        await Assert.That(r[^1].Json!.Value.GetProperty("metadata").GetProperty("redirect_count").GetInt32()).IsEqualTo(2);
        await text.StartAsync(2, $"{{\"url\":\"{upstream.Url("/redirect/1")}\",\"follow_redirects\":false,\"max_redirects\":0}}");
        var manual = await text.WaitStreamAsync(2);
        await Assert.That(manual[1].Json!.Value.GetProperty("status_code").GetInt32()).IsEqualTo(302);

        await text.StartAsync(3, ChannelClient.Get(upstream.Url("/gzip")));
        var decoded = await text.WaitStreamAsync(3);
        var decodedStart = decoded[1].Json!.Value;
        await Assert.That(decodedStart.GetProperty("headers").TryGetProperty("content-encoding", out _)).IsFalse();
        await Assert.That(decodedStart.GetProperty("raw_headers").EnumerateArray().Any(h => h.GetProperty("name").GetString()!.Equals("content-encoding", StringComparison.OrdinalIgnoreCase))).IsFalse();
        await Assert.That(JsonDocument.Parse(ChannelClient.Body(decoded)).RootElement.GetProperty("gzipped").GetBoolean()).IsTrue();

        await binary.StartAsync(3, ChannelClient.Get(upstream.Url("/gzip")));
        var passed = await binary.WaitStreamAsync(3);
        var passedStart = passed[1].Json!.Value;
        await Assert.That(passedStart.GetProperty("headers").GetProperty("content-encoding").GetString()).IsEqualTo("gzip");
        var raw = ChannelClient.Body(passed);
        await Assert.That(raw[0]).IsEqualTo((byte)0x1f);
        await Assert.That(raw[1]).IsEqualTo((byte)0x8b);
        using var gunzip = new System.IO.Compression.GZipStream(new MemoryStream(raw), System.IO.Compression.CompressionMode.Decompress);
        var json = JsonDocument.Parse(gunzip).RootElement;
        await Assert.That(json.GetProperty("gzipped").GetBoolean()).IsTrue();
        await Assert.That(json.GetProperty("accept_encoding").GetString()).IsEqualTo("gzip, deflate");
    }

    [Test]
    public async Task Beyond_max_concurrent_streams_and_max_queue_a_stream_gets_queue_full_and_queued_ones_run_in_order()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?max_concurrent_streams=1&max_queue=2");
        await ch.WaitAsync(f => f.Count >= 1);
        var trace = $"ch-q-{Guid.NewGuid():N}";
        await ch.StartAsync(1, ChannelClient.Get(upstream.Url($"/delay/1500?trace={trace}")));
        await upstream.Trace(trace).Started.WaitAsync(TimeSpan.FromSeconds(10));
        await ch.StartAsync(2, ChannelClient.Get(upstream.Url("/bytes/1")));
        await ch.StartAsync(3, ChannelClient.Get(upstream.Url("/bytes/2")));
        await ch.StartAsync(4, ChannelClient.Get(upstream.Url("/bytes/3")));
        var full = await ch.WaitAsync(f => f.Any(x => x.Type == "error" && x.StreamId == 4));
        var error = full.Single(x => x.Type == "error").Json!.Value;
        await Assert.That(error.GetProperty("error_type").GetString()).IsEqualTo("queue_full");
        await Assert.That(full.Any(x => x.StreamId == 4 && x.Type == "accepted")).IsFalse();
        await ch.WaitStreamAsync(3);
        await ch.WaitStreamAsync(2);
        await Assert.That(ch.Of(2)[^1].Type).IsEqualTo("response.end").Because(string.Join("\n", ch.Of(2)));
        var ends = ch.Frames.Where(f => f.Type == "response.end").Select(f => f.StreamId).ToList();
        await Assert.That(string.Join(",", ends)).IsEqualTo("1,2,3");
    }

    [Test]
    public async Task Bad_binary_frames_are_protocol_errors_and_the_socket_goes_on()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await using var text = await ChannelClient.ConnectAsync(sidecar.BaseUrl);
        await text.WaitAsync(f => f.Count >= 1);
        await text.SendBinaryAsync(ChannelClient.RequestBody(1, "x"u8));
        var onText = await text.WaitAsync(f => f.Any(x => x.Type == "error"));
        await Assert.That(onText.Single(x => x.Type == "error").StreamId).IsNull(); // socket-level: a binary frame on a text socket
        await Assert.That(onText.Single(x => x.Type == "error").Json!.Value.GetProperty("error_type").GetString()).IsEqualTo("protocol_error");

        await using var ch = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?binary=true");
        await ch.WaitAsync(f => f.Count >= 1);
        await ch.SendBinaryAsync(ChannelClient.RequestBody(42, "x"u8)); // nobody waits for a body on 42
        var bad = ChannelClient.RequestBody(43, "y"u8);
        bad[0] = 9; // version
        await ch.SendBinaryAsync(bad);
        await ch.SendBinaryAsync([1, 2, 3]); // shorter than a header
        await ch.SendAsync("not json");
        await ch.WaitAsync(f => f.Count(x => x.Type == "error") >= 4);
        var errors = ch.Frames.Where(x => x.Type == "error").ToList();
        await Assert.That(errors.All(e => e.Json!.Value.GetProperty("error_type").GetString() == "protocol_error")).IsTrue();
        await Assert.That(errors[0].StreamId).IsEqualTo(42UL);
        await Assert.That(errors[1].StreamId).IsEqualTo(43UL);
        await Assert.That(errors[2].StreamId).IsNull();
        await Assert.That(errors[3].StreamId).IsNull();
        await ch.StartAsync(7, ChannelClient.Get(upstream.Url("/bytes/5")));
        await Assert.That((await ch.WaitStreamAsync(7))[^1].Type).IsEqualTo("response.end");
    }

    [Test]
    public async Task An_oversize_message_closes_with_1009_and_an_idle_socket_closes_after_idle_timeout()
    {
        await using var sidecar = await Sidecar.StartAsync();
        await using var big = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?max_frame_bytes=1024");
        await big.WaitAsync(f => f.Count >= 1);
        await big.SendAsync("{\"type\":\"ping\",\"pad\":\"" + new string('a', 2000) + "\"}");
        await big.WaitAsync(_ => big.Closed, 10).ContinueWith(_ => { });
        await Assert.That(big.CloseStatus).IsEqualTo(System.Net.WebSockets.WebSocketCloseStatus.MessageTooBig);

        await using var idle = await ChannelClient.ConnectAsync(sidecar.BaseUrl, "?idle_timeout_secs=1");
        await idle.WaitAsync(f => f.Count >= 1);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!idle.Closed && DateTime.UtcNow < deadline) await Task.Delay(100);
        await Assert.That(idle.CloseStatus).IsEqualTo(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure);
        await Assert.That(idle.CloseReason).IsEqualTo("idle timeout");
    }
}
