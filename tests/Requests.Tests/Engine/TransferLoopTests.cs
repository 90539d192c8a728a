// The transfer loop (curl_multi_socket_action on an epoll set) over real libcurl and the test upstream, one
// transfer thread: many sockets at once, a transfer paused by back-pressure and resumed by the loop's timer,
// a short answer handed over whole, and the pool trimmed by the loop while it is idle.
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using HoodyCurl.Requests.Engine;
using HoodyCurl.Requests.Model;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.Requests.Tests.Engine;

public partial class TransferLoopTests
{
    private static ExecutionOptions Sync() => new() { RequestId = Guid.NewGuid().ToString() };

    private static async Task<byte[]> ReadAllAsync(PipeReader reader)
    {
        using var buffer = new MemoryStream();
        await reader.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static byte[] Expected(int length)
    {
        var bytes = new byte[length];
        Payload.Fill(bytes, 0, Payload.DefaultSeed);
        return bytes;
    }

    [Test]
    public async Task Sixty_four_concurrent_transfers_on_one_loop_complete_and_reuse_their_connections()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var expected = SHA256.HashData(Expected(3000));
        for (var round = 0; round < 4; round++)
        {
            var bodies = await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
            {
                await using var response = await engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/bytes/3000") }, Sync(), CancellationToken.None);
                var body = await ReadAllAsync(response.Body);
                var result = await response.Completion;
                return (result.Ok, Hash: SHA256.HashData(body));
            }));
            await Assert.That(bodies.All(b => b.Ok && b.Hash.SequenceEqual(expected))).IsTrue();
        }
        // 256 transfers, at most 64 at once: never more upstream connections than transfers at once.
        await Assert.That(engine.Metric("hoody_curl_upstream_connections_opened_total")).IsLessThanOrEqualTo(64);
        await Assert.That(engine.Metric("hoody_curl_requests_total{door=\"rest\",outcome=\"ok\"}")).IsEqualTo(256);
    }

    [Test]
    public async Task A_transfer_paused_by_a_full_pipe_resumes_when_its_reader_drains()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        const int size = 8 * 1024 * 1024;
        await using var response = await engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url($"/bytes/{size}") }, Sync(), CancellationToken.None);
        // Nobody reads: the loop pauses the transfer once a pipe's worth waits unread.
        for (var deadline = DateTime.UtcNow.AddSeconds(20); engine.Metric("hoody_curl_transfer_pauses_total") < 1; await Task.Delay(20))
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the transfer never paused");
        await Assert.That(response.Completion.IsCompleted).IsFalse();
        var body = await ReadAllAsync(response.Body);
        var result = await response.Completion;
        await Assert.That(result.Ok).IsTrue();
        await Assert.That(SHA256.HashData(body).SequenceEqual(SHA256.HashData(Expected(size)))).IsTrue();
    }

    [Test]
    public async Task A_short_answer_arrives_with_its_body_and_its_result()
    {
        // One write of a whole response: the loop reads head and body in one turn and hands them over together.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var request = new byte[4096];
            var read = 0;
            while (!Encoding.ASCII.GetString(request, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                read += await stream.ReadAsync(request.AsMemory(read));
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-One: 1\r\n\r\nhello"u8.ToArray());
            await Task.Delay(2000); // keep the connection open: the transfer ends on the length, not on a close
        });
        await using var engine = EngineHarness.Start();
        await using var response = await engine.Executor.SendAsync(new CurlRequest { Url = $"http://127.0.0.1:{port}/x" }, Sync(), CancellationToken.None);
        await Assert.That(response.StatusCode).IsEqualTo(200);
        await Assert.That(response.Headers.Any(h => h.Name == "X-One" && h.Value == "1")).IsTrue();
        await Assert.That(response.Body.TryRead(out var ready)).IsTrue();
        await Assert.That(Encoding.ASCII.GetString(ready.Buffer.ToArray())).IsEqualTo("hello");
        await Assert.That(ready.IsCompleted).IsTrue();
        response.Body.AdvanceTo(ready.Buffer.End);
        await Assert.That(response.Completion.IsCompleted).IsTrue();
        await Assert.That((await response.Completion).Ok).IsTrue();
        await serve;
    }

    [Test]
    public async Task The_idle_loop_trims_the_pool_back_to_its_caps()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start("--pool-per-origin", "1");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            await using var response = await engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/delay/200") }, Sync(), CancellationToken.None);
            await ReadAllAsync(response.Body);
            await response.Completion;
        }));
        // Eight handles came back; with no traffic the loop evicts all but one once they have idled past the grace.
        for (var deadline = DateTime.UtcNow.AddSeconds(15); engine.Metric("hoody_curl_pool_idle") != 1; await Task.Delay(50))
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"pool_idle stayed at {engine.Metric("hoody_curl_pool_idle")}");
        await Assert.That(engine.Metric("hoody_curl_pool_evictions_total{reason=\"per_origin\"}")).IsEqualTo(7);
    }
}
