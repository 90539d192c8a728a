// Issue 16 item 3: after a response on an origin set 50 or more cookies, the next request of another
// session to that origin (on the same pooled libcurl handle) sent no cookies and saved an empty jar.
// Every session's request now carries exactly its own jar, whatever a handle saw before.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Sessions;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Hardening;

public class CookieIsolationTests
{
    [Test]
    public async Task A_flood_of_cookies_in_one_session_never_empties_another_sessions_jar()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        // One transfer thread: every request of this test goes through the same loop and handle pool.
        await using var sidecar = await Sidecar.StartAsync("--transfer-threads", "1");
        var victim = "victim-" + Guid.NewGuid().ToString("N");
        var flooder = "flooder-" + Guid.NewGuid().ToString("N");
        await SessionsApi.EnvelopeAsync(sidecar.Client, upstream.Url("/cookies/set?keep=me&also=this"), victim);
        await Assert.That((await SessionsApi.SnapshotAsync(sidecar.Client, victim)).Count).IsEqualTo(2);

        for (var round = 0; round < 3; round++)
        {
            // 60 cookies in one response, in another session and without one.
            var many = string.Join("&", Enumerable.Range(0, 60).Select(i => $"c{round}x{i}=v{i}"));
            await SessionsApi.EnvelopeAsync(sidecar.Client, upstream.Url($"/cookies/set?{many}"), flooder, ",\"follow_redirects\":false");
            await SessionsApi.EnvelopeAsync(sidecar.Client, upstream.Url($"/cookies/set?{many}"), null, ",\"follow_redirects\":false");

            var sent = await SessionsApi.SentCookiesAsync(sidecar.Client, upstream.Url("/cookies"), victim);
            await Assert.That(sent).ContainsKey("keep").Because($"round {round}: the victim's request must carry its jar");
            await Assert.That(sent.Count).IsEqualTo(2).Because($"round {round}: {string.Join(",", sent.Keys)}");
            var jar = await SessionsApi.SnapshotAsync(sidecar.Client, victim);
            await Assert.That(jar.Count).IsEqualTo(2).Because($"round {round}: the victim's jar must survive");
        }
        // The flooder kept what libcurl accepts of one response (at most 50 per response), nothing of the victim's.
        var flooderJar = await SessionsApi.SnapshotAsync(sidecar.Client, flooder);
        await Assert.That(flooderJar.ContainsKey("keep")).IsFalse();
        await Assert.That(flooderJar.Count).IsGreaterThan(0);
    }
}
