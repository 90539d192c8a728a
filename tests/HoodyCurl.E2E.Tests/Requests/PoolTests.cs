// The handle pool's caps and counters (contract ops.md §3.1, §4), observed through /metrics.
using System.Text.RegularExpressions;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Requests;

public partial class PoolTests
{
    [GeneratedRegex(@"^(?<name>[a-z_]+(\{[^}]*\})?) (?<value>[0-9.e+]+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    private static async Task<Dictionary<string, double>> Metrics(Sidecar sidecar)
    {
        var text = await sidecar.Client.GetStringAsync("/metrics");
        return Sample().Matches(text).ToDictionary(m => m.Groups["name"].Value, m => double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Test]
    public async Task Per_origin_and_global_caps_evict_and_count()
    {
        await using var a = await TestUpstreamServer.StartAsync();
        await using var b = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--pool-per-origin", "1", "--pool-global", "1", "--transfer-threads", "1");
        // Four concurrent transfers to one origin need four handles; only one may stay idle afterwards.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(a.Url("/delay/300"))}")));
        var m = await Metrics(sidecar);
        await Assert.That(m["hoody_curl_pool_takes_total"]).IsEqualTo(4);
        await Assert.That(m["hoody_curl_pool_misses_total"]).IsEqualTo(4);
        await Assert.That(m["hoody_curl_pool_puts_total"]).IsEqualTo(4);
        await Assert.That(m["hoody_curl_pool_evictions_total{reason=\"per_origin\"}"]).IsEqualTo(3);
        await Assert.That(m["hoody_curl_pool_idle"]).IsEqualTo(1);

        // A second origin's handle pushes the first out under the global cap of one.
        await sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(b.Url("/status/200"))}");
        m = await Metrics(sidecar);
        await Assert.That(m["hoody_curl_pool_evictions_total{reason=\"global\"}"]).IsEqualTo(1);
        await Assert.That(m["hoody_curl_pool_idle"]).IsEqualTo(1);

        // Warm reuse: the next call to b is a hit.
        await sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(b.Url("/status/200"))}");
        m = await Metrics(sidecar);
        await Assert.That(m["hoody_curl_pool_hits_total"]).IsEqualTo(1);
    }

    [Test]
    public async Task Insecure_and_cancelled_transfers_bypass_the_pool()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await sidecar.Client.GetAsync($"/api/v1/curl/request?insecure=true&url={Api.Q(upstream.Url("/status/200"))}");
        var trace = $"cancel-{Guid.NewGuid():N}";
        using (var cts = new CancellationTokenSource())
        {
            var pending = sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/delay/20000?trace={trace}"))}", cts.Token);
            await upstream.Trace(trace).Started.WaitAsync(TimeSpan.FromSeconds(10));
            await cts.CancelAsync();
            try { await pending; } catch (OperationCanceledException) { }
        }
        await upstream.Trace(trace).Aborted.WaitAsync(TimeSpan.FromSeconds(10));
        var m = await Metrics(sidecar);
        await Assert.That(m["hoody_curl_pool_bypasses_total{reason=\"non_default_security\"}"]).IsEqualTo(1);
        await Assert.That(m["hoody_curl_pool_bypasses_total{reason=\"cancellation\"}"]).IsEqualTo(1);
        await Assert.That(m["hoody_curl_requests_total{door=\"bridge\",outcome=\"cancelled\"}"]).IsEqualTo(1);
    }
}
