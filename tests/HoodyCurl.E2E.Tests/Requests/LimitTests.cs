// Limits with flags: request body (413), sync wait (408), concurrent sync requests (503 + Retry-After),
// and response buffering for the json envelope.
using System.Text;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Requests;

public class LimitTests
{
    [Test]
    public async Task Oversized_request_body_is_413()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-request-body-bytes", "1024");
        var json = $"{{\"url\":\"{upstream.Url("/echo")}\",\"data\":\"{new string('x', 2000)}\"}}";
        var (status, body) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", json);
        await Assert.That(status).IsEqualTo(413);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("PAYLOAD_TOO_LARGE");

        // Without Content-Length (chunked) the limit holds as well.
        using var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/curl/request") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var response = await sidecar.Client.SendAsync(request);
        await Assert.That((int)response.StatusCode).IsEqualTo(413);
    }

    [Test]
    public async Task Sync_wait_limit_is_408()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-sync-wait-secs", "1");
        var (status, body) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?timeout=20&url={Api.Q(upstream.Url("/delay/5000"))}");
        await Assert.That(status).IsEqualTo(408);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("TIMEOUT");
    }

    [Test]
    public async Task Too_many_sync_requests_is_503_with_retry_after()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-sync", "1");
        var trace = $"busy-{Guid.NewGuid():N}";
        var slow = sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/delay/3000?trace={trace}"))}");
        await upstream.Trace(trace).Started.WaitAsync(TimeSpan.FromSeconds(10));
        using var response = await sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url("/status/200"))}");
        await Assert.That((int)response.StatusCode).IsEqualTo(503);
        await Assert.That(response.Headers.RetryAfter!.Delta).IsEqualTo(TimeSpan.FromSeconds(5));
        var body = await Api.ReadJsonAsync(response);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("QUEUE_FULL");
        using var first = await slow;
        await Assert.That((int)first.StatusCode).IsEqualTo(200);
    }

    [Test]
    public async Task Json_envelope_buffer_limit_is_502_response_too_large()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-response-buffer-bytes", "100000");
        var (status, body) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url("/stream-bytes/1000000"))}");
        await Assert.That(status).IsEqualTo(502);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("RESPONSE_TOO_LARGE");
    }
}
