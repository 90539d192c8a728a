// A URL relayed again goes to libcurl parsed (CURLOPT_CURLU from the loop's UrlCache) instead of as a string to parse: the
// upstream sees the same request, libcurl reports the same effective URL, and a redirect is followed from it the same way.
// One transfer thread and one request at a time, so the loop's cache counts every parsed URL it handed out.
using System.Text.Json;
using HoodyCurl.Requests.Engine;
using HoodyCurl.Requests.Model;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.Requests.Tests.Engine;

public class ParsedUrlTests
{
    private static async Task<(int Status, string? EffectiveUrl, int Redirects, JsonElement? Body)> SendAsync(EngineHarness engine, string url)
    {
        await using var response = await engine.Executor.SendAsync(new CurlRequest { Url = url }, new ExecutionOptions { RequestId = Guid.NewGuid().ToString() }, CancellationToken.None);
        using var body = new MemoryStream();
        await response.Body.CopyToAsync(body);
        var result = await response.Completion;
        if (!result.Ok) throw new InvalidOperationException("the request failed: " + result.Error?.Message);
        JsonElement? json = response.StatusCode == 200 ? JsonDocument.Parse(body.ToArray()).RootElement.Clone() : null;
        return (response.StatusCode, result.Info.EffectiveUrl, result.Info.RedirectCount, json);
    }

    [Test]
    public async Task A_url_sent_again_goes_out_parsed_and_reaches_the_upstream_the_same_way()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var loop = engine.Executor.Loops.Single();

        // Dot segments, an escaped query, a redirect chain (its Location is relative), and no path at all.
        var echo = upstream.Url("/anything/a/../b?x=1&y=%20z");
        var first = await SendAsync(engine, echo);
        await Assert.That(first.Status).IsEqualTo(200);
        await Assert.That(first.EffectiveUrl).IsEqualTo(upstream.Url("/anything/b?x=1&y=%20z"));
        await Assert.That(first.Body!.Value.GetProperty("path").GetString()).IsEqualTo("/anything/b");
        await Assert.That(first.Body!.Value.GetProperty("query").GetProperty("y").GetString()).IsEqualTo(" z");
        var redirect = upstream.Url("/redirect/2");
        var firstRedirect = await SendAsync(engine, redirect);
        var bare = upstream.BaseUrl;
        var firstBare = await SendAsync(engine, bare);
        await Assert.That(firstBare.EffectiveUrl).IsEqualTo(bare + "/");
        await Assert.That(loop.Urls.Hits).IsEqualTo(0); // each seen once: libcurl parsed them

        for (var round = 1; round <= 3; round++)
        {
            var again = await SendAsync(engine, echo);
            await Assert.That(again.Status).IsEqualTo(first.Status);
            await Assert.That(again.EffectiveUrl).IsEqualTo(first.EffectiveUrl);
            await Assert.That(again.Body!.Value.GetProperty("path").GetString()).IsEqualTo("/anything/b");
            await Assert.That(again.Body!.Value.GetProperty("query").GetProperty("x").GetString()).IsEqualTo("1");
            await Assert.That(again.Body!.Value.GetProperty("query").GetProperty("y").GetString()).IsEqualTo(" z");

            var followed = await SendAsync(engine, redirect);
            await Assert.That(followed.Status).IsEqualTo(200);
            await Assert.That(followed.Redirects).IsEqualTo(2);
            await Assert.That(followed.EffectiveUrl).IsEqualTo(firstRedirect.EffectiveUrl);
            await Assert.That(followed.EffectiveUrl).IsEqualTo(upstream.Url("/redirect/0"));
            await Assert.That(followed.Body!.Value.GetProperty("redirected").GetBoolean()).IsTrue();

            var bareAgain = await SendAsync(engine, bare);
            await Assert.That(bareAgain.Status).IsEqualTo(firstBare.Status);
            await Assert.That(bareAgain.EffectiveUrl).IsEqualTo(bare + "/");

            await Assert.That(loop.Urls.Hits).IsEqualTo(3 * round);
        }
    }

    [Test]
    public async Task More_distinct_urls_in_flight_than_the_cache_holds_all_go_out_right()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var loop = engine.Executor.Loops.Single();
        // 600 distinct URLs, each sent twice in a row (the second time parsed, unless a sweep dropped it in between), 96
        // at a time: the cache (256) fills, sweeps while transfers hold entries, and must never free one under a transfer.
        var urls = Enumerable.Range(0, 600).Select(i => upstream.Url($"/anything/u{i}?n={i}")).ToArray();
        using var gate = new SemaphoreSlim(96);
        async Task CheckAsync(int i)
        {
            await gate.WaitAsync();
            try
            {
                for (var time = 0; time < 2; time++)
                {
                    var sent = await SendAsync(engine, urls[i]);
                    if (sent.Status != 200 || sent.Body!.Value.GetProperty("path").GetString() != $"/anything/u{i}"
                        || sent.Body!.Value.GetProperty("query").GetProperty("n").GetString() != i.ToString(System.Globalization.CultureInfo.InvariantCulture))
                        throw new InvalidOperationException($"url {i}: {sent.Status} {sent.Body}");
                }
            }
            finally { gate.Release(); }
        }
        await Task.WhenAll(Enumerable.Range(0, urls.Length).Select(CheckAsync));
        await Assert.That(loop.Urls.Hits).IsGreaterThan(0);
        // Checked on the loop's thread's data after every transfer finished: within the cap.
        await Assert.That(loop.Urls.Count).IsLessThanOrEqualTo(UrlCache.DefaultCapacity);
    }
}
