// Proxies and the SSRF guard (issue 12 §1). Proxy environment variables must never route a request: with
// them set, libcurl used to send every request to that proxy, and the connect-time check then saw only the
// proxy's (allowed) address, never the target's. An explicit --upstream-proxy is honoured, and then the
// sidecar resolves and checks the target itself, before the request leaves and on every redirect hop.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Security;

public class UpstreamProxyTests
{
    [Test]
    public async Task Proxy_environment_variables_are_ignored()
    {
        await using var canary = CanaryProxy.Start();
        await using var upstream = await TestUpstreamServer.StartAsync();
        var environment = new Dictionary<string, string>
        {
            ["http_proxy"] = canary.Url, ["HTTP_PROXY"] = canary.Url, ["https_proxy"] = canary.Url, ["HTTPS_PROXY"] = canary.Url,
            ["ALL_PROXY"] = canary.Url, ["all_proxy"] = canary.Url, ["NO_PROXY"] = "", ["no_proxy"] = "",
        };
        // meta.test is pinned to 127.0.0.2, which the policy denies (only 127.0.0.1/32 is allowed). Through the
        // environment's proxy (127.0.0.1, allowed) the request would have left; directly, the guard refuses it.
        await using var sidecar = await Sidecar.StartWithEnvironmentAsync(environment, "--resolve", "meta.test:80:127.0.0.2");

        var (status, body) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?timeout=5&url={Api.Q("http://meta.test/latest/meta-data")}");
        await Assert.That(status).IsEqualTo(403).Because(body.ToString());
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("SSRF_BLOCKED");

        // The allowed upstream is reached directly, not through the proxy.
        var (okStatus, ok) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?timeout=5&url={Api.Q(upstream.Url("/status/200"))}");
        await Assert.That(okStatus).IsEqualTo(200);
        await Assert.That(ok.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        using var transparent = await sidecar.Client.GetAsync($"/api/v1/curl/request?response=transparent&timeout=5&url={Api.Q(upstream.Url("/bytes/16"))}");
        await Assert.That((await transparent.Content.ReadAsStringAsync()).Contains("via-canary-proxy", StringComparison.Ordinal)).IsFalse();

        // An https target too (the canary would see a CONNECT): it must fail on its own, never at the proxy.
        await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?timeout=5&url={Api.Q("https://meta.test:443/")}");
        await Assert.That(canary.Connections).IsEqualTo(0).Because(string.Join(" | ", canary.Requests));
    }

    [Test]
    public async Task Upstream_proxy_is_used_and_every_target_is_still_checked()
    {
        await using var canary = CanaryProxy.Start();
        // No loopback allowance: the proxy on 127.0.0.1 is reachable because the operator named it, nothing else.
        // allowed*.test pin public addresses (allowed by default); the proxy answers for them, so nothing leaves.
        await using var sidecar = await Sidecar.StartAsync("--no-default-allow", "--allow-cidr", "198.18.0.0/15",
            "--upstream-proxy", $"http://user:pr0xy-s3cret@127.0.0.1:{canary.Port}",
            "--resolve", "allowed.test:80:93.184.216.34", "--resolve", "allowed2.test:80:93.184.216.35",
            "--resolve", "meta.test:80:169.254.169.254", "--resolve", "loop.test:80:127.0.0.1");

        // Logged at start, without the credentials (the console logger writes on its own thread: wait for the line).
        await sidecar.WaitForLineAsync($"upstream proxy http://127.0.0.1:{canary.Port}", TimeSpan.FromSeconds(10));
        await Assert.That(sidecar.Output).DoesNotContain("pr0xy-s3cret");

        var (status, body) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?timeout=5&url={Api.Q("http://allowed.test/hello")}");
        await Assert.That(status).IsEqualTo(200).Because(body.ToString());
        await Assert.That(body.GetProperty("body").GetString()).IsEqualTo("via-canary-proxy http://allowed.test/hello");
        var first = canary.Requests.Single();
        await Assert.That(first).StartsWith("GET http://allowed.test/hello HTTP/1.1");
        await Assert.That(first).Contains("Proxy-Authorization: Basic"); // the proxy's own credentials are used

        // Targets the policy denies never reach the proxy: by name (resolved by the sidecar), by literal address.
        foreach (var denied in new[] { "http://meta.test/latest", "http://loop.test/", "http://169.254.169.254/", "http://127.0.0.1:9/" })
        {
            var (deniedStatus, deniedBody) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?timeout=5&url={Api.Q(denied)}");
            await Assert.That(deniedStatus).IsEqualTo(403).Because($"{denied}: {deniedBody}");
            await Assert.That(deniedBody.GetProperty("error").GetString()).IsEqualTo("SSRF_BLOCKED");
        }
        var posted = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", "{\"url\":\"http://meta.test/x\",\"mode\":\"sync\",\"timeout\":5}");
        await Assert.That(posted.Status).IsEqualTo(403);
        await Assert.That(canary.Requests.Count).IsEqualTo(1);

        // A redirect (answered by the proxy) to a denied host is refused before the second request is sent ...
        canary.Redirect("http://allowed.test/to-meta", "http://meta.test/latest/meta-data");
        var (redirStatus, redirBody) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?timeout=5&url={Api.Q("http://allowed.test/to-meta")}");
        await Assert.That(redirStatus).IsEqualTo(403).Because(redirBody.ToString());
        await Assert.That(redirBody.GetProperty("message").GetString()).Contains("169.254.169.254");
        await Assert.That(canary.Requests.Count).IsEqualTo(2);
        await Assert.That(canary.Requests.Any(r => r.Contains("meta.test", StringComparison.Ordinal) && r.StartsWith("GET http://meta", StringComparison.Ordinal))).IsFalse();

        // ... and a redirect to another allowed host is followed through the proxy.
        canary.Redirect("http://allowed.test/to-allowed2", "http://allowed2.test/landing");
        var (followStatus, follow) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?timeout=5&url={Api.Q("http://allowed.test/to-allowed2")}");
        await Assert.That(followStatus).IsEqualTo(200).Because(follow.ToString());
        await Assert.That(follow.GetProperty("body").GetString()).IsEqualTo("via-canary-proxy http://allowed2.test/landing");
        await Assert.That(canary.Requests.Count).IsEqualTo(4);
    }
}
