// Decisions D11 against the real binary: with --allow-cidr 127.0.0.1/32 every denied address and scheme
// is refused with 403 SSRF_BLOCKED naming the rule (and the address), through the GET bridge and POST,
// directly and behind an allowed upstream that redirects (301/302/307/308) — and nothing connects.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Security;

[ClassDataSource<SsrfEnvironment>(Shared = SharedType.PerClass)]
public class SsrfGuardTests(SsrfEnvironment env)
{
    private static readonly int[] RedirectStatuses = [301, 302, 307, 308];

    [Test]
    [MethodDataSource(typeof(SsrfTargets), nameof(SsrfTargets.ByAddress))]
    [MethodDataSource(typeof(SsrfTargets), nameof(SsrfTargets.ByScheme))]
    public async Task Direct_target_is_refused_through_both_doors(SsrfTarget target)
    {
        var url = env.Fill(target.Url);
        await AssertBlocked(await env.ViaBridge(url), target, "bridge");
        await AssertBlocked(await env.ViaPost(url), target, "post");
        await AssertNothingConnected();
    }

    [Test]
    [MethodDataSource(typeof(SsrfTargets), nameof(SsrfTargets.ByAddress))]
    [MethodDataSource(typeof(SsrfTargets), nameof(SsrfTargets.ByScheme))]
    public async Task Redirect_to_target_is_refused_after_the_first_hop(SsrfTarget target)
    {
        var url = env.Fill(target.Url);
        foreach (var status in RedirectStatuses)
        {
            foreach (var door in new[] { "bridge", "post" })
            {
                var trace = $"ssrf-{status}-{door}-{Guid.NewGuid():N}";
                var first = env.RedirectTo(url, status, trace);
                var result = door == "bridge" ? await env.ViaBridge(first) : await env.ViaPost(first);
                await AssertBlocked(result, target, $"{door} after {status}");
                // The allowed upstream was asked exactly once: the redirect was seen and refused, not retried.
                await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(1);
            }
        }
        await AssertNothingConnected();
    }

    [Test]
    public async Task Allowed_upstream_still_works_and_the_trap_is_reachable_without_the_sidecar()
    {
        // The policy is not "deny everything": the allowed upstream answers through both doors.
        var (bridgeStatus, bridge) = await env.ViaBridge(env.Upstream.Url("/status/200"));
        await Assert.That(bridgeStatus).IsEqualTo(200);
        await Assert.That(bridge.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        using var post = await env.Client.PostAsync("/api/v1/curl/request",
            Api.Json($"{{\"url\":{SsrfEnvironment.Json(env.Upstream.Url("/status/201"))},\"mode\":\"sync\",\"data\":\"x\"}}"));
        await Assert.That((int)post.StatusCode).IsEqualTo(201); // transparent: the upstream's status and body

        // And a trap does count connections (its own instance: this probe must not pollute the shared one),
        // so "nothing connected" means something.
        await using var trap = ConnectionTrap.Start();
        using (var probe = new System.Net.Sockets.TcpClient())
            await probe.ConnectAsync(ConnectionTrap.OtherLoopback, trap.Port);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (trap.Accepted.Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        await Assert.That(trap.Accepted.Count).IsEqualTo(1);
    }

    private static async Task AssertBlocked((int Status, JsonElement Body) result, SsrfTarget target, string door)
    {
        var (status, body) = result;
        var shown = $"{door} {target.Url}: {status} {body}";
        await Assert.That(status).IsEqualTo(403).Because(shown);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("SSRF_BLOCKED").Because(shown);
        await Assert.That(body.GetProperty("code").GetString()).IsEqualTo("SSRF_BLOCKED").Because(shown);
        var message = body.GetProperty("message").GetString()!;
        await Assert.That(message).Contains($"rule {target.Rule}").Because(shown);
        if (target.Address is { } address) await Assert.That(message).Contains($"address {address} ").Because(shown);
    }

    private async Task AssertNothingConnected()
    {
        // A connection the guard let through would have been accepted by now; give a late one a moment.
        await Task.Delay(50);
        await Assert.That(env.Trap.Accepted).IsEmpty();
    }
}
