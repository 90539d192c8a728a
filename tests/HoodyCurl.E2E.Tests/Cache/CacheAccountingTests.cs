// A cache hit is a request like any other (issue 11): it is counted in hoody_curl_requests_total and logged on
// the engine's one line per request, the caller's max_filesize refuses it like a relayed answer; with the cache
// off nothing cache-related moves; and the DNS-rebind pin is checked on the response side too (an answer fetched
// from an address outside the host's current set is not stored; a pinned entry whose address moved is re-fetched).
using System.Net;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Cache;

public class CacheAccountingTests
{
    private static async Task<(int Status, JsonElement Body)> PostAsync(Sidecar sidecar, string json, string requestId)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/api/v1/curl/request") { Content = Api.Json(json) };
        message.Headers.Add("X-Request-Id", requestId);
        using var response = await sidecar.Client.SendAsync(message);
        return ((int)response.StatusCode, await Api.ReadJsonAsync(response));
    }

    private static string Request(string url, string extra = "") => $"{{\"url\":\"{JsonEncodedText.Encode(url)}\",\"response\":\"json\"{extra}}}";

    [Test]
    public async Task A_hit_is_counted_in_requests_total_and_logged_like_a_relayed_request()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(CacheEnvironment.CacheFlags);
        var name = CacheEnvironment.Unique("acct");
        var url = upstream.Url($"/cacheable/{name}?cc=max-age=600&size=1234");
        const string ok = "hoody_curl_requests_total{door=\"rest\",outcome=\"ok\"}";

        var (_, miss) = await PostAsync(sidecar, Request(url), "acct-miss-1");
        await Assert.That(CacheEnvironment.CacheOf(miss)).IsEqualTo("miss");
        await sidecar.WaitForLineAsync("request acct-miss-1 door=rest decision=allowed", TimeSpan.FromSeconds(10));
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, ok)).IsEqualTo(1);

        var (_, hit) = await PostAsync(sidecar, Request(url), "acct-hit-1");
        await Assert.That(CacheEnvironment.CacheOf(hit)).IsEqualTo("hit");
        await Assert.That(upstream.CacheableHits(name)).IsEqualTo(1);
        var line = await sidecar.WaitForLineAsync("request acct-hit-1 door=rest decision=allowed", TimeSpan.FromSeconds(10));
        await Assert.That(line).Contains($"upstream=http://127.0.0.1:{upstream.Port} status=200 bytes=1234");
        await Assert.That(line).Contains("attempts=0"); // nothing went upstream
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, ok)).IsEqualTo(2);
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_request_duration_seconds_count{door=\"rest\",outcome=\"ok\"}")).IsEqualTo(2);
    }

    [Test]
    public async Task Max_filesize_refuses_a_larger_hit_the_way_it_refuses_a_relayed_answer()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(CacheEnvironment.CacheFlags);
        var name = CacheEnvironment.Unique("maxf");
        var url = upstream.Url($"/cacheable/{name}?cc=max-age=600&size=10000");
        var (stored, _) = await PostAsync(sidecar, Request(url), "maxf-store");
        await Assert.That(stored).IsEqualTo(200);

        // The same size relayed (the upstream forbids storing it): the reference answer.
        var relayedName = CacheEnvironment.Unique("maxr");
        var (relayedStatus, relayed) = await PostAsync(sidecar,
            Request(upstream.Url($"/cacheable/{relayedName}?cc=no-store&size=10000"), ",\"max_filesize\":1000"), "maxf-relayed");
        await Assert.That(relayedStatus).IsEqualTo(502);
        await Assert.That(relayed.GetProperty("error").GetString()).IsEqualTo("RESPONSE_TOO_LARGE");

        var (status, body) = await PostAsync(sidecar, Request(url, ",\"max_filesize\":1000"), "maxf-hit");
        await Assert.That(status).IsEqualTo(relayedStatus);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("RESPONSE_TOO_LARGE");
        await Assert.That(body.GetProperty("message").GetString()).IsEqualTo(relayed.GetProperty("message").GetString());
        // Transparent mode too (the caller's default): the error answer, never a body.
        using (var transparent = await sidecar.Client.PostAsync("/api/v1/curl/request",
            Api.Json($"{{\"url\":\"{JsonEncodedText.Encode(url)}\",\"max_filesize\":9999}}")))
        {
            await Assert.That((int)transparent.StatusCode).IsEqualTo(502);
            await Assert.That((await Api.ReadJsonAsync(transparent)).GetProperty("error").GetString()).IsEqualTo("RESPONSE_TOO_LARGE");
        }
        await Assert.That(upstream.CacheableHits(name)).IsEqualTo(1); // refused from the cache, not fetched again
        await sidecar.WaitForLineAsync("request maxf-hit door=rest decision=failed reason=RESPONSE_TOO_LARGE", TimeSpan.FromSeconds(10));
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_requests_total{door=\"rest\",outcome=\"too_large\"}")).IsEqualTo(3);

        // A limit the body fits in serves the hit.
        var (fits, hit) = await PostAsync(sidecar, Request(url, ",\"max_filesize\":10000"), "maxf-fits");
        await Assert.That(fits).IsEqualTo(200);
        await Assert.That(CacheEnvironment.CacheOf(hit)).IsEqualTo("hit");
        await Assert.That(hit.GetProperty("body").GetString()!.Length).IsEqualTo(10000);
    }

    [Test]
    [Arguments(false)]
    [Arguments(true)]
    public async Task With_the_cache_off_nothing_cache_related_is_counted(bool withNamespace)
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(withNamespace ? ["--cache-namespace", "ctn:e2e:off", "--cache-mode", "off"] : []);
        var name = CacheEnvironment.Unique("off");
        var url = upstream.Url($"/cacheable/{name}?cc=max-age=600");
        for (var i = 0; i < 3; i++)
        {
            var (status, body) = await CacheEnvironment.RequestAsync(sidecar, url);
            await Assert.That(status).IsEqualTo(200);
            await Assert.That(body.TryGetProperty("cache", out _)).IsFalse();
        }
        await Assert.That(upstream.CacheableHits(name)).IsEqualTo(3);
        var metrics = await sidecar.Client.GetStringAsync("/metrics");
        // The documented series exist (dashboards see them) and stay at 0.
        await Assert.That(metrics).Contains("hoody_curl_cache_bypass_total{reason=\"cache_disabled\"} 0");
        await Assert.That(metrics).Contains("hoody_curl_cache_enabled 0");
        var moved = metrics.Split('\n')
            .Where(l => l.StartsWith("hoody_curl_cache_", StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal))
            .ToList();
        await Assert.That(moved).IsEmpty().Because(string.Join("\n", moved));
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_requests_total{door=\"rest\",outcome=\"ok\"}")).IsEqualTo(3);
    }

    [Test]
    public async Task An_answer_fetched_from_an_address_outside_the_hosts_current_set_is_not_stored()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var elsewhere = await TestUpstreamServer.StartOnAsync(IPAddress.Parse("127.0.0.2"));
        await using var sidecar = await Sidecar.StartAsync([.. CacheEnvironment.CacheFlags, "--allow-cidr", "127.0.0.0/8"]);
        var name = CacheEnvironment.Unique("rpin");
        // The key's host is 127.0.0.1; the answer comes, through a redirect, from 127.0.0.2: an entry pinned there
        // could never be served for this URL (its address is not the host's), so it is not stored.
        var url = upstream.Url("/redirect-to?url=" + Uri.EscapeDataString(elsewhere.Url($"/cacheable/{name}?cc=max-age=600")));
        for (var i = 1; i <= 2; i++)
        {
            var (status, body) = await CacheEnvironment.RequestAsync(sidecar, url);
            await Assert.That(status).IsEqualTo(200);
            await Assert.That(CacheEnvironment.CacheOf(body)).IsEqualTo("miss");
            await Assert.That(body.GetProperty("body").GetString()).StartsWith($"{name}#{i}");
        }
        await Assert.That(elsewhere.CacheableHits(name)).IsEqualTo(2);
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_cache_skip_response_total{reason=\"pin_mismatch\"}")).IsEqualTo(2);
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_cache_bypass_total{reason=\"pin_mismatch\"}")).IsEqualTo(0);
        var (_, stats) = await sidecar.Client.GetJsonAsync("/api/v1/curl/cache");
        await Assert.That(stats.GetProperty("entries").GetInt32()).IsEqualTo(0);
    }

    [Test]
    public async Task An_entry_whose_host_moved_is_refetched_from_the_new_address_and_replaced()
    {
        await using var first = await TestUpstreamServer.StartAsync();
        // The same port on 127.0.0.2: the host "moves" between the two sidecar runs through --resolve.
        await using var moved = await TestUpstreamServer.StartOnAsync(IPAddress.Parse("127.0.0.2"), first.Port);
        var storage = Directory.CreateTempSubdirectory("hoody-e2e-cache-").FullName;
        try
        {
            var name = CacheEnvironment.Unique("move");
            var url = $"http://move.test:{first.Port}/cacheable/{name}?cc=max-age=600";
            string[] Flags(string ip) => [.. CacheEnvironment.CacheFlags, "--allow-cidr", "127.0.0.0/8", "--resolve", $"move.test:{first.Port}:{ip}"];
            await using (var before = await Sidecar.StartInAsync(storage, Flags("127.0.0.1")))
            {
                await CacheEnvironment.RequestAsync(before, url);
                await Assert.That(CacheEnvironment.CacheOf((await CacheEnvironment.RequestAsync(before, url)).Body)).IsEqualTo("hit");
                await before.StopAsync();
            }
            await using var after = await Sidecar.StartInAsync(storage, Flags("127.0.0.2"));
            var (_, refetched) = await CacheEnvironment.RequestAsync(after, url);
            await Assert.That(CacheEnvironment.CacheOf(refetched)).IsEqualTo("bypass");
            await Assert.That(refetched.GetProperty("body").GetString()).StartsWith($"{name}#1"); // the moved server's first answer
            await Assert.That(await CacheEnvironment.MetricAsync(after, "hoody_curl_cache_bypass_total{reason=\"pin_mismatch\"}")).IsEqualTo(1);
            await Assert.That(await CacheEnvironment.MetricAsync(after, "hoody_curl_cache_pin_mismatch_total")).IsEqualTo(1);
            // The re-fetched answer replaced the entry, pinned to the new address: served from now on.
            var (_, hit) = await CacheEnvironment.RequestAsync(after, url);
            await Assert.That(CacheEnvironment.CacheOf(hit)).IsEqualTo("hit");
            await Assert.That(hit.GetProperty("body").GetString()).StartsWith($"{name}#1");
            await Assert.That(first.CacheableHits(name)).IsEqualTo(1);
            await Assert.That(moved.CacheableHits(name)).IsEqualTo(1);
            await Assert.That(await CacheEnvironment.MetricAsync(after, "hoody_curl_cache_pin_mismatch_total")).IsEqualTo(1);
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }
}
