// The SSRF guard holds on the channel (issue 10 acceptance, decisions D11): every address and scheme of
// the security suite is refused with a stream-level error, the socket goes on, and nothing connects.
using HoodyCurl.E2E.Tests.Security;

namespace HoodyCurl.E2E.Tests.Channel;

[ClassDataSource<SsrfEnvironment>(Shared = SharedType.PerClass)]
public class ChannelSsrfTests(SsrfEnvironment env)
{
    [Test]
    public async Task Every_denied_target_is_a_stream_level_validation_error_and_nothing_connects()
    {
        var targets = SsrfTargets.ByAddress().Concat(SsrfTargets.ByScheme()).Select(t => t()).ToList();
        await using var ch = await ChannelClient.ConnectAsync(env.Sidecar.BaseUrl, "?binary=true");
        await ch.WaitAsync(f => f.Count >= 1);
        ulong id = 100;
        foreach (var target in targets) await ch.StartAsync(id++, ChannelClient.Get(env.Fill(target.Url)));
        // Redirects into denied addresses are refused on the hop.
        var redirectIds = new List<ulong>();
        foreach (var target in targets.Where(t => t.Url.StartsWith("http", StringComparison.Ordinal)).Take(5))
        {
            redirectIds.Add(id);
            await ch.StartAsync(id++, ChannelClient.Get(env.RedirectTo(env.Fill(target.Url), 302, Guid.NewGuid().ToString("N"))));
        }
        await ch.StartAsync(id, ChannelClient.Get(env.Upstream.Url("/bytes/3")));
        var last = id;
        await ch.WaitAsync(f => Enumerable.Range(100, (int)(last - 100 + 1)).All(i =>
            f.Any(x => x.StreamId == (ulong)i && x.Type is "error" or "response.end")), 60);
        for (ulong i = 100; i < last; i++)
        {
            var frames = ch.Of(i);
            var error = frames.SingleOrDefault(f => f.Type == "error");
            await Assert.That(error).IsNotNull().Because($"stream {i} ({(i - 100 < (ulong)targets.Count ? targets[(int)(i - 100)].Url : "redirect")}) must be refused");
            var type = error!.Json!.Value.GetProperty("error_type").GetString();
            await Assert.That(type).IsEqualTo("validation_error");
            await Assert.That(frames.Any(f => f.Type == "response.start")).IsFalse();
        }
        await Assert.That(ch.Of(last)[^1].Type).IsEqualTo("response.end");
        await Assert.That(env.Trap.Accepted.Count).IsEqualTo(0);
        await Assert.That(ch.Frames.Any(f => f.Type == "error" && f.StreamId is null)).IsFalse();
    }
}
