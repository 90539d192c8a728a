// Issue 14 acceptance: a declared query param reaches the upstream encoded, a value failing its pattern
// is 400, and an attempt to override the stored URL, method or headers through the link's query has
// no effect. Declared header and body params land where declared.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Links;

public class LinkParamsTests
{
    [Test]
    public async Task Declared_params_land_encoded_where_declared_and_nothing_else_can_be_overridden()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        using var anonymous = LinksApi.Anonymous();
        var (id, path, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/echo?fixed=1"),
            ",\"method\":\"PUT\",\"headers\":{\"X-Stored\":\"yes\"},\"json\":{\"kept\":true}",
            """
            ,"params":[{"name":"q","in":"query","required":true,"pattern":"^[a-z &=#/?@]+$"},
                       {"name":"X-Tenant","in":"header"},{"name":"note","in":"body"}]
            """));

        // Overrides of everything the GET bridge would take, plus the declared ones.
        var evil = $"url={Api.Q("http://127.0.0.2/")}&method=DELETE&header={Api.Q("X-Evil: 1")}&headers={Api.Q("{\"X-Stored\":\"no\"}")}" +
                   $"&bearer_token=t&json={Api.Q("{\"kept\":false}")}&data=zzz&fixed=2&response=json&mode=async&X-Stored=no";
        using var opened = await anonymous.GetAsync($"{sidecar.BaseUrl}{path}?{evil}&q={Api.Q("a b&c=d#e/f?g@h")}&X-Tenant=acme&note={Api.Q("hi \"there\"")}");
        var text = await opened.Content.ReadAsStringAsync();
        await Assert.That((int)opened.StatusCode).IsEqualTo(200).Because(text);
        using var echo = JsonDocument.Parse(text); // transparent: the upstream's own answer, not an envelope
        var seen = echo.RootElement;
        await Assert.That(seen.GetProperty("method").GetString()).IsEqualTo("PUT");
        await Assert.That(seen.GetProperty("path").GetString()).IsEqualTo("/echo");
        await Assert.That(seen.GetProperty("target").GetString()).IsEqualTo("/echo?fixed=1&q=a%20b%26c%3Dd%23e%2Ff%3Fg%40h");
        var query = seen.GetProperty("query");
        await Assert.That(query.EnumerateObject().Select(p => p.Name).Order().ToArray()).IsEquivalentTo(new[] { "fixed", "q" });
        await Assert.That(query.GetProperty("q").GetString()).IsEqualTo("a b&c=d#e/f?g@h");
        await Assert.That(query.GetProperty("fixed").GetString()).IsEqualTo("1");
        var headers = seen.GetProperty("headers");
        await Assert.That(headers.GetProperty("x-stored").GetString()).IsEqualTo("yes");
        await Assert.That(headers.GetProperty("x-tenant").GetString()).IsEqualTo("acme");
        await Assert.That(headers.TryGetProperty("x-evil", out _)).IsFalse();
        await Assert.That(headers.TryGetProperty("authorization", out _)).IsFalse();
        using var body = JsonDocument.Parse(seen.GetProperty("body").GetString()!);
        await Assert.That(body.RootElement.GetProperty("kept").GetBoolean()).IsTrue();
        await Assert.That(body.RootElement.GetProperty("note").GetString()).IsEqualTo("hi \"there\"");
        await Assert.That(body.RootElement.EnumerateObject().Count()).IsEqualTo(2);

        // A value failing its pattern, a missing required one, a repeated one, a header value with a line break: 400, no use spent.
        foreach (var bad in new[] { "q=ABC", "", "q=a&q=b", "q=a&X-Tenant=" + Api.Q("a\r\nX-Evil: 1") })
        {
            using var refused = await anonymous.GetAsync($"{sidecar.BaseUrl}{path}?{bad}");
            var error = await Api.ReadJsonAsync(refused);
            await Assert.That((int)refused.StatusCode).IsEqualTo(400).Because(bad);
            await Assert.That(error.GetProperty("code").GetString()).IsEqualTo("VALIDATION_ERROR");
        }
        var record = await LinksApi.GetAsync(client, id);
        await Assert.That(record.GetProperty("use_count").GetInt64()).IsEqualTo(1);
        await Assert.That((await LinksApi.HistoryAsync(client, id)).Count).IsEqualTo(1);

        // A param that would pick the destination cannot even be declared.
        var (hostStatus, hostError) = await client.PostJsonAsync(LinksApi.Path, LinksApi.Body(upstream.Url("/echo"), "",
            ",\"params\":[{\"name\":\"Host\",\"in\":\"header\"}]"));
        await Assert.That(hostStatus).IsEqualTo(400);
        await Assert.That(hostError.GetProperty("message").GetString()!).Contains("Host");
    }
}
