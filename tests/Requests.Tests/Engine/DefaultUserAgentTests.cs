// The sidecar's own User-Agent goes out once on every request that names none, with or without headers of the caller's
// (it travels in the header list, not as libcurl's option), and on the next hop of a cross-origin redirect that strips
// the caller's secrets; a caller's User-Agent, as a header or as the user_agent field, replaces it. The echo joins
// repeated headers, so a second User-Agent line would show in the value.
using System.Text.Json;
using HoodyCurl.Requests.Model;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.Requests.Tests.Engine;

public class DefaultUserAgentTests
{
    private static readonly string Default = "hoody-curl/" + RequestsOptions.Version;

    private static async Task<JsonElement> EchoHeadersAsync(EngineHarness engine, CurlRequest request)
    {
        await using var response = await engine.Executor.SendAsync(request, new ExecutionOptions { RequestId = Guid.NewGuid().ToString() }, CancellationToken.None);
        using var body = new MemoryStream();
        await response.Body.CopyToAsync(body);
        var result = await response.Completion;
        if (!result.Ok) throw new InvalidOperationException("the request failed: " + result.Error?.Message);
        return JsonDocument.Parse(body.ToArray()).RootElement.GetProperty("headers").Clone();
    }

    private static string? UserAgent(JsonElement headers) => headers.TryGetProperty("user-agent", out var v) ? v.GetString() : null;

    [Test]
    public async Task The_default_goes_out_once_unless_the_caller_names_one()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var url = upstream.Url("/anything");
        HeaderEntry H(string name, string value) => new(name, value);

        await Assert.That(UserAgent(await EchoHeadersAsync(engine, new CurlRequest { Url = url }))).IsEqualTo(Default);
        var withHeaders = await EchoHeadersAsync(engine, new CurlRequest { Url = url, Headers = [H("X-One", "1"), H("Accept", "text/plain")] });
        await Assert.That(UserAgent(withHeaders)).IsEqualTo(Default);
        await Assert.That(withHeaders.GetProperty("x-one").GetString()).IsEqualTo("1");
        await Assert.That(UserAgent(await EchoHeadersAsync(engine, new CurlRequest { Url = url, Json = "{}", BearerToken = "t" }))).IsEqualTo(Default);

        // The caller's own, by header (any case) or by field; the field wins over nothing, the header over the default.
        await Assert.That(UserAgent(await EchoHeadersAsync(engine, new CurlRequest { Url = url, Headers = [H("user-agent", "mine/1")] }))).IsEqualTo("mine/1");
        await Assert.That(UserAgent(await EchoHeadersAsync(engine, new CurlRequest { Url = url, UserAgent = "field/2" }))).IsEqualTo("field/2");
        await Assert.That(UserAgent(await EchoHeadersAsync(engine, new CurlRequest { Url = url, UserAgent = "field/3", Headers = [H("X-Two", "2")] }))).IsEqualTo("field/3");
        // And the default again on the same pooled handle.
        await Assert.That(UserAgent(await EchoHeadersAsync(engine, new CurlRequest { Url = url }))).IsEqualTo(Default);
    }

    [Test]
    public async Task A_cross_origin_redirect_keeps_the_default_and_drops_the_secrets()
    {
        await using var first = await TestUpstreamServer.StartAsync();
        await using var second = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var target = second.Url("/anything");
        var url = first.Url("/redirect-to?url=" + Uri.EscapeDataString(target));

        var headers = await EchoHeadersAsync(engine, new CurlRequest { Url = url, Headers = [new HeaderEntry("Authorization", "Bearer secret"), new HeaderEntry("X-Keep", "k")] });
        await Assert.That(headers.TryGetProperty("authorization", out _)).IsFalse();
        await Assert.That(headers.GetProperty("x-keep").GetString()).IsEqualTo("k");
        await Assert.That(UserAgent(headers)).IsEqualTo(Default);
    }
}
