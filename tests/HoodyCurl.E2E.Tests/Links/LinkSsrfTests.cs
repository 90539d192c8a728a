// Issue 14 acceptance: the SSRF guard holds through links. A stored URL to a denied address is refused
// at creation (403 SSRF_BLOCKED, as on /request); a stored URL that redirects into a denied address is
// refused at the connect when the link is opened (and the history says so); params cannot move the
// request to another host. The connection trap proves no socket reached a denied address.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Security;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Links;

public class LinkSsrfTests
{
    [Test]
    public async Task The_ssrf_guard_holds_for_stored_urls_redirects_and_params()
    {
        await using var trap = ConnectionTrap.Start();
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(SsrfEnvironment.ResolveFlags(trap.Port));
        var client = sidecar.Client;
        using var anonymous = LinksApi.Anonymous();

        // Stored URLs the guard denies: literal, metadata, the other loopback, a --resolve'd name, the sidecar itself.
        foreach (var denied in new[]
                 {
                     "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", $"http://127.0.0.2:{trap.Port}/",
                     $"http://name.test:{trap.Port}/", $"http://127.0.0.1:{sidecar.Port}/health", $"http://[::ffff:127.0.0.2]:{trap.Port}/",
                 })
        {
            var (status, error) = await client.PostJsonAsync(LinksApi.Path, LinksApi.Body(denied));
            await Assert.That(status).IsEqualTo(403).Because(denied);
            await Assert.That(error.GetProperty("code").GetString()).IsEqualTo("SSRF_BLOCKED");
        }
        var (_, list) = await client.GetJsonAsync(LinksApi.Path);
        await Assert.That(list.GetProperty("meta").GetProperty("total").GetInt64()).IsEqualTo(0);

        // A stored URL that passes the pre-check but redirects into a denied address: refused at the connect.
        var redirect = upstream.Url($"/redirect-to?url={Api.Q($"http://127.0.0.2:{trap.Port}/")}&status_code=302");
        var (id, path, _) = await LinksApi.CreateAsync(client, LinksApi.Body(redirect, ",\"follow_redirects\":true"));
        using (var opened = await anonymous.GetAsync(sidecar.BaseUrl + path))
        {
            await Assert.That((int)opened.StatusCode).IsEqualTo(403);
            await Assert.That((await Api.ReadJsonAsync(opened)).GetProperty("code").GetString()).IsEqualTo("SSRF_BLOCKED");
        }
        var history = await LinksApi.FinishedHistoryAsync(client, id);
        await Assert.That(history.Single().GetProperty("status").GetInt32()).IsEqualTo(403);
        await Assert.That(history.Single().GetProperty("error").GetString()).IsEqualTo("SSRF_BLOCKED");

        // Params whose values look like other destinations stay query values of the stored host.
        var (_, echoPath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/echo"), "",
            ",\"params\":[{\"name\":\"to\",\"in\":\"query\",\"required\":true}]"));
        foreach (var value in new[]
                 {
                     $"@127.0.0.2:{trap.Port}/", $"http://127.0.0.2:{trap.Port}/", $"#@127.0.0.2:{trap.Port}", $"/../../@name.test:{trap.Port}",
                     $"x\r\nHost: 127.0.0.2:{trap.Port}", $"%40127.0.0.2:{trap.Port}", $"\\\\127.0.0.2:{trap.Port}\\",
                 })
        {
            using var opened = await anonymous.GetAsync($"{sidecar.BaseUrl}{echoPath}?to={Api.Q(value)}&url={Api.Q($"http://127.0.0.2:{trap.Port}/")}");
            var echo = await Api.ReadJsonAsync(opened);
            await Assert.That((int)opened.StatusCode).IsEqualTo(200).Because(value);
            await Assert.That(echo.GetProperty("path").GetString()).IsEqualTo("/echo");
            await Assert.That(echo.GetProperty("query").GetProperty("to").GetString()).IsEqualTo(value);
            await Assert.That(echo.GetProperty("headers").GetProperty("host").GetString()).IsEqualTo($"127.0.0.1:{upstream.Port}");
        }
        await Assert.That(trap.Accepted).IsEmpty();
    }
}
