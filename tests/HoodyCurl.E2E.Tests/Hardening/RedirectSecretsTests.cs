// Issue 16 item 4: the `cookie` field and custom secret headers (X-Api-Key, a bearer token, ...) followed
// redirects to other hosts. On a redirect that changes scheme, host or port they are dropped now; a
// same-origin redirect keeps them, and harmless headers travel on.
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Hardening;

[ClassDataSource<SharedEnvironment>(Shared = SharedType.PerTestSession)]
public class RedirectSecretsTests(SharedEnvironment env)
{
    private const string Secrets =
        "\"cookie\":\"sid=COOKIE-SECRET\",\"bearer_token\":\"BEARER-SECRET\"," +
        "\"headers\":{\"X-Api-Key\":\"KEY-SECRET\",\"X-Session-Token\":\"TOKEN-SECRET\",\"X-Client-Secret\":\"CLIENT-SECRET\",\"X-Authz\":\"AUTHZ-SECRET\",\"X-Plain\":\"plain-value\"}";

    [Test]
    [Arguments(302)]
    [Arguments(307)]
    public async Task A_cross_origin_redirect_drops_every_secret_and_keeps_plain_headers(int status)
    {
        await using var other = RawUpstream.StartEcho(); // another port on 127.0.0.1: another origin
        var hop = env.Upstream.Url($"/redirect-to?status_code={status}&url={Api.Q(other.Url("/landed"))}");
        var (code, body) = await env.Client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":\"{hop}\",\"response\":\"json\",{Secrets}}}");
        await Assert.That(code).IsEqualTo(200).Because(body.ToString());
        await Assert.That(body.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        var landed = other.Requests.Single(r => r.Target == "/landed");
        var seen = string.Join("\n", landed.Headers.Select(h => $"{h.Key}: {h.Value}"));
        foreach (var secret in new[] { "COOKIE-SECRET", "BEARER-SECRET", "KEY-SECRET", "TOKEN-SECRET", "CLIENT-SECRET", "AUTHZ-SECRET" })
            await Assert.That(seen).DoesNotContain(secret);
        await Assert.That(landed.Headers["x-plain"]).IsEqualTo("plain-value");
    }

    [Test]
    public async Task A_same_origin_redirect_keeps_the_secrets()
    {
        await using var upstream = RawUpstream.Start(async (request, stream) =>
        {
            var answer = request.Target == "/start"
                ? "HTTP/1.1 302 Found\r\nLocation: /landed\r\nContent-Length: 0\r\n\r\n"
                : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(answer));
        });
        var (code, body) = await env.Client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":\"{upstream.Url("/start")}\",\"response\":\"json\",{Secrets}}}");
        await Assert.That(code).IsEqualTo(200).Because(body.ToString());
        var landed = upstream.Requests.Single(r => r.Target == "/landed");
        await Assert.That(landed.Headers["x-api-key"]).IsEqualTo("KEY-SECRET");
        await Assert.That(landed.Headers["authorization"]).IsEqualTo("Bearer BEARER-SECRET");
        await Assert.That(landed.Headers["cookie"]).Contains("COOKIE-SECRET");
    }

    [Test]
    public async Task The_secret_list_follows_its_flag()
    {
        await using var sidecar = await Sidecar.StartAsync("--redirect-strip-header", "X-Plain");
        await using var other = RawUpstream.StartEcho();
        var hop = env.Upstream.Url($"/redirect-to?url={Api.Q(other.Url("/landed"))}");
        var (code, body) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":\"{hop}\",\"response\":\"json\",{Secrets}}}");
        await Assert.That(code).IsEqualTo(200).Because(body.ToString());
        var landed = other.Requests.Single(r => r.Target == "/landed");
        await Assert.That(landed.Headers.ContainsKey("x-plain")).IsFalse();
        // The flag replaces the default patterns; Cookie, Authorization and the cookie field always go.
        await Assert.That(landed.Headers["x-api-key"]).IsEqualTo("KEY-SECRET");
        await Assert.That(landed.Headers.ContainsKey("authorization")).IsFalse();
        await Assert.That(landed.Headers.ContainsKey("cookie")).IsFalse();
    }
}
