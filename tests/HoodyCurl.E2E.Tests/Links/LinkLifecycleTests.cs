// Issue 14 acceptance: max_uses 3 -> the fourth opening is 410; expires_at in the past -> 410; revoke
// -> 404 at once, the same answer as a link that never existed. Plus the management API's shapes:
// list paging, record fields, the name cap, the methods list.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Links;

public class LinkLifecycleTests
{
    [Test]
    public async Task Max_uses_expiry_and_revocation_end_a_link()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        using var anonymous = LinksApi.Anonymous();

        // max_uses 3: three openings, then 410 LINK_EXPIRED.
        var (three, threePath, created) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/status/200"), "", ",\"max_uses\":3"));
        await Assert.That(created.GetProperty("max_uses").GetInt64()).IsEqualTo(3);
        await Assert.That(created.GetProperty("state").GetString()).IsEqualTo("active");
        for (var i = 0; i < 3; i++)
        {
            using var ok = await anonymous.GetAsync(sidecar.BaseUrl + threePath);
            await Assert.That((int)ok.StatusCode).IsEqualTo(200);
        }
        using (var fourth = await anonymous.GetAsync(sidecar.BaseUrl + threePath))
        {
            await Assert.That((int)fourth.StatusCode).IsEqualTo(410);
            await Assert.That((await Api.ReadJsonAsync(fourth)).GetProperty("code").GetString()).IsEqualTo("LINK_EXPIRED");
        }
        var used = await LinksApi.GetAsync(client, three);
        await Assert.That(used.GetProperty("use_count").GetInt64()).IsEqualTo(3);
        await Assert.That(used.GetProperty("state").GetString()).IsEqualTo("used_up");
        await Assert.That(used.GetProperty("last_used_at").ValueKind).IsEqualTo(JsonValueKind.String);
        await Assert.That((await LinksApi.HistoryAsync(client, three)).Count).IsEqualTo(3);

        // expires_at in the past: 410 from the first opening, no use spent.
        var past = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var (expired, expiredPath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/status/200"), "", $",\"expires_at\":\"{past}\""));
        using (var late = await anonymous.GetAsync(sidecar.BaseUrl + expiredPath))
        {
            await Assert.That((int)late.StatusCode).IsEqualTo(410);
            await Assert.That((await Api.ReadJsonAsync(late)).GetProperty("code").GetString()).IsEqualTo("LINK_EXPIRED");
        }
        var expiredRecord = await LinksApi.GetAsync(client, expired);
        await Assert.That(expiredRecord.GetProperty("state").GetString()).IsEqualTo("expired");
        await Assert.That(expiredRecord.GetProperty("use_count").GetInt64()).IsEqualTo(0);

        // A future expiry still opens.
        var future = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var (_, futurePath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/status/200"), "", $",\"expires_at\":\"{future}\""));
        using (var inTime = await anonymous.GetAsync(sidecar.BaseUrl + futurePath))
            await Assert.That((int)inTime.StatusCode).IsEqualTo(200);

        // Revoke: 404 at once, byte for byte the answer of a token that never existed.
        var (revoked, revokedPath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/status/204")));
        using (var before = await anonymous.GetAsync(sidecar.BaseUrl + revokedPath))
            await Assert.That((int)before.StatusCode).IsEqualTo(204);
        using (var delete = await client.DeleteAsync($"{LinksApi.Path}/{revoked}"))
        {
            await Assert.That((int)delete.StatusCode).IsEqualTo(200);
            await Assert.That((await Api.ReadJsonAsync(delete)).GetProperty("message").GetString()).IsEqualTo("Link revoked");
        }
        using var gone = await anonymous.GetAsync(sidecar.BaseUrl + revokedPath);
        using var never = await anonymous.GetAsync(sidecar.BaseUrl + "/l/AAAAAAAAAAAAAAAAAAAAAA");
        await Assert.That((int)gone.StatusCode).IsEqualTo(404);
        await Assert.That((int)never.StatusCode).IsEqualTo(404);
        await Assert.That(await gone.Content.ReadAsStringAsync()).IsEqualTo(await never.Content.ReadAsStringAsync());
        await Assert.That(await never.Content.ReadAsStringAsync()).Contains("LINK_NOT_FOUND");
        var revokedRecord = await LinksApi.GetAsync(client, revoked);
        await Assert.That(revokedRecord.GetProperty("state").GetString()).IsEqualTo("revoked");
        await Assert.That(revokedRecord.GetProperty("revoked_at").ValueKind).IsEqualTo(JsonValueKind.String);
        using (var unknown = await client.DeleteAsync($"{LinksApi.Path}/{Guid.NewGuid()}"))
            await Assert.That((int)unknown.StatusCode).IsEqualTo(404);

        // Metrics count openings by outcome.
        foreach (var line in new[] { "{outcome=\"ran\"} 5", "{outcome=\"used_up\"} 1", "{outcome=\"expired\"} 1", "{outcome=\"not_found\"} 2" })
            await LinksApi.MetricEventuallyAsync(client, "hoody_curl_link_openings_total" + line);
    }

    [Test]
    public async Task The_management_api_pages_lists_caps_names_and_limits_methods()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        using var anonymous = LinksApi.Anonymous();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/status/200"), "", $",\"name\":\"n{i}\""))).Id);

        var (status, page) = await client.GetJsonAsync($"{LinksApi.Path}?limit=2");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(page.GetProperty("items").GetArrayLength()).IsEqualTo(2);
        await Assert.That(page.GetProperty("items")[0].GetProperty("id").GetString()).IsEqualTo(ids[2]); // newest first
        await Assert.That(page.GetProperty("meta").GetProperty("total").GetInt64()).IsEqualTo(3);
        await Assert.That(page.GetProperty("has_more").GetBoolean()).IsTrue();
        var (_, second) = await client.GetJsonAsync($"{LinksApi.Path}?limit=2&page=2");
        await Assert.That(second.GetProperty("items")[0].GetProperty("id").GetString()).IsEqualTo(ids[0]);
        await Assert.That(second.GetProperty("has_more").GetBoolean()).IsFalse();
        foreach (var item in page.GetProperty("items").EnumerateArray())
            await Assert.That(item.TryGetProperty("path", out _)).IsFalse();

        var (longStatus, longName) = await client.PostJsonAsync(LinksApi.Path, LinksApi.Body(upstream.Url("/status/200"), "", $",\"name\":\"{new string('x', 257)}\""));
        await Assert.That(longStatus).IsEqualTo(400);
        await Assert.That(longName.GetProperty("message").GetString()!).Contains("256");
        var (okStatus, _) = await client.PostJsonAsync(LinksApi.Path, LinksApi.Body(upstream.Url("/status/200"), "", $",\"name\":\"{new string('x', 256)}\""));
        await Assert.That(okStatus).IsEqualTo(201);
        var (proxyStatus, proxy) = await client.PostJsonAsync(LinksApi.Path, LinksApi.Body(upstream.Url("/status/200"), ",\"proxy\":\"http://p:1\""));
        await Assert.That(proxyStatus).IsEqualTo(400);
        await Assert.That(proxy.GetProperty("message").GetString()!).Contains("proxy");
        var (notFound, _) = await client.GetJsonAsync($"{LinksApi.Path}/{Guid.NewGuid()}");
        await Assert.That(notFound).IsEqualTo(404);
        var (badAfter, _) = await client.GetJsonAsync($"{LinksApi.Path}/{ids[0]}/history?after=x");
        await Assert.That(badAfter).IsEqualTo(400);

        // Only the listed methods open the link; the others are 405 with Allow and spend nothing.
        var (postOnly, postPath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/echo"), "", ",\"methods\":[\"POST\",\"PUT\"]"));
        using (var get = await anonymous.GetAsync(sidecar.BaseUrl + postPath))
        {
            await Assert.That((int)get.StatusCode).IsEqualTo(405);
            await Assert.That(get.Content.Headers.Allow.ToArray()).IsEquivalentTo(new[] { "POST", "PUT" });
        }
        using (var put = await anonymous.PutAsync(sidecar.BaseUrl + postPath, Api.Json("{}")))
        {
            await Assert.That((int)put.StatusCode).IsEqualTo(200);
            // The upstream gets the stored request's method (GET), not the opener's.
            await Assert.That((await Api.ReadJsonAsync(put)).GetProperty("method").GetString()).IsEqualTo("GET");
        }
        await Assert.That((await LinksApi.GetAsync(client, postOnly)).GetProperty("use_count").GetInt64()).IsEqualTo(1);
    }

    [Test]
    public async Task Concurrent_openings_never_exceed_max_uses()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        using var anonymous = LinksApi.Anonymous();
        var (id, path, _) = await LinksApi.CreateAsync(sidecar.Client, LinksApi.Body(upstream.Url("/delay/50"), "", ",\"max_uses\":5"));
        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await anonymous.GetAsync(sidecar.BaseUrl + path);
            return (int)response.StatusCode;
        }));
        await Assert.That(statuses.Count(s => s == 200)).IsEqualTo(5);
        await Assert.That(statuses.Count(s => s == 410)).IsEqualTo(15);
        await Assert.That((await LinksApi.GetAsync(sidecar.Client, id)).GetProperty("use_count").GetInt64()).IsEqualTo(5);
        await Assert.That((await LinksApi.FinishedHistoryAsync(sidecar.Client, id)).Count).IsEqualTo(5);
    }
}
