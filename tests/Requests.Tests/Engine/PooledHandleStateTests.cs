// A pooled easy handle keeps its options after a plain GET (no curl_easy_reset), and is reset after any request that
// set more: nothing a request set (referer, range, credentials, method, body, user agent) reaches the next request on
// the same handle. One transfer thread and requests one at a time, so every request takes the handle the previous one
// put back (the pool hit counter shows it).
using System.Text.Json;
using HoodyCurl.Requests.Model;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.Requests.Tests.Engine;

public class PooledHandleStateTests
{
    private static async Task<JsonElement> EchoAsync(EngineHarness engine, CurlRequest request)
    {
        await using var response = await engine.Executor.SendAsync(request, new ExecutionOptions { RequestId = Guid.NewGuid().ToString() }, CancellationToken.None);
        using var body = new MemoryStream();
        await response.Body.CopyToAsync(body);
        var result = await response.Completion;
        if (!result.Ok) throw new InvalidOperationException("the request failed: " + result.Error?.Message);
        return JsonDocument.Parse(body.ToArray()).RootElement.Clone();
    }

    private static string? Header(JsonElement echo, string name) =>
        echo.GetProperty("headers").TryGetProperty(name, out var value) ? value.GetString() : null;

    [Test]
    public async Task Nothing_a_request_set_reaches_the_next_request_on_its_pooled_handle()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var url = upstream.Url("/anything");

        var plain = await EchoAsync(engine, new CurlRequest { Url = url });
        var defaultAgent = Header(plain, "user-agent");
        await Assert.That(defaultAgent).IsNotNull();

        // Every request-level option that outlives a transfer in libcurl, then a plain GET after each.
        CurlRequest[] setters =
        [
            new() { Url = url, Referer = "https://referer.example/" },
            new() { Url = url, Range = "0-10" },
            new() { Url = url, AuthUser = "user", AuthPassword = "secret" },
            new() { Url = url, Cookie = "a=1" },
            new() { Url = url, Method = "DELETE" },
            new() { Url = url, Method = "POST", Data = "body" },
            new() { Url = url, UserAgent = "agent/2" },
            new() { Url = url, Compressed = true },
        ];
        foreach (var setter in setters)
        {
            await EchoAsync(engine, setter);
            var next = await EchoAsync(engine, new CurlRequest { Url = url });
            await Assert.That(next.GetProperty("method").GetString()).IsEqualTo("GET");
            await Assert.That(Header(next, "referer")).IsNull();
            await Assert.That(Header(next, "range")).IsNull();
            await Assert.That(Header(next, "authorization")).IsNull();
            await Assert.That(Header(next, "cookie")).IsNull();
            await Assert.That(Header(next, "content-length")).IsNull();
            await Assert.That(Header(next, "accept-encoding")).IsNull();
            await Assert.That(Header(next, "user-agent")).IsEqualTo(defaultAgent);
        }

        // Plain GETs on a warm handle (options kept, not reset) still send exactly a plain GET.
        for (var i = 0; i < 3; i++)
        {
            var again = await EchoAsync(engine, new CurlRequest { Url = url, UserAgent = i == 1 ? "agent/3" : null });
            await Assert.That(Header(again, "user-agent")).IsEqualTo(i == 1 ? "agent/3" : defaultAgent);
        }
        var hits = engine.Metrics.Render().Split('\n').First(l => l.StartsWith("hoody_curl_pool_hits_total ", StringComparison.Ordinal));
        await Assert.That(double.Parse(hits.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)).IsEqualTo(setters.Length * 2 + 3);
    }
}
