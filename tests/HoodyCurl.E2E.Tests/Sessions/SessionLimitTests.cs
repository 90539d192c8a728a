// Issue 12 §3: --max-sessions bounds the stored sessions; a request with a new session id beyond it
// answers 503 TOO_MANY_SESSIONS in the contract's shape, existing sessions keep working.
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Sessions;

public class SessionLimitTests
{
    [Test]
    public async Task A_new_session_beyond_max_sessions_is_503_and_existing_ones_still_work()
    {
        await using var upstream = await HoodyCurl.TestUpstream.TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-sessions", "2");
        await SessionsApi.EnvelopeAsync(sidecar.Client, upstream.Url("/status/200"), "one");
        await SessionsApi.EnvelopeAsync(sidecar.Client, upstream.Url("/status/200"), "two");
        var (status, body) = await SessionsApi.RequestAsync(sidecar.Client, upstream.Url("/status/200"), "three");
        await Assert.That(status).IsEqualTo(503).Because(body.ToString());
        await Assert.That(body.GetProperty("code").GetString()).IsEqualTo("TOO_MANY_SESSIONS");
        await Assert.That(body.GetProperty("message").GetString()!).Contains("--max-sessions");
        await SessionsApi.EnvelopeAsync(sidecar.Client, upstream.Url("/status/200"), "one");
        using var deleted = await sidecar.Client.DeleteAsync("/api/v1/curl/sessions/two");
        await Assert.That((int)deleted.StatusCode).IsEqualTo(200);
        await SessionsApi.EnvelopeAsync(sidecar.Client, upstream.Url("/status/200"), "three");
    }
}
