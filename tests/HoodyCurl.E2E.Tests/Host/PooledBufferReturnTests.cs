// Relayed bodies pass through pooled blocks: the response-body pipes' own pool ("bodies") and the pools Kestrel
// takes through IMemoryPoolFactory ("server"). After a burst the pools hold free blocks; once the sidecar goes
// quiet the memory trimmer drops them and a compacting collection returns them (issue 13). Kestrel's default
// pool kept its blocks for minutes, and a burst of large bodies allocates too little on the managed heap to
// have triggered a trim on its own.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Host;

public class PooledBufferReturnTests
{
    private static async Task<double> Sample(Sidecar sidecar, string name) =>
        Realtime.JobEventStreamTests.MetricValue(await sidecar.Client.GetStringAsync("/metrics"), name);

    [Test]
    public async Task Kestrel_and_the_relay_take_their_buffers_from_the_pools_the_trimmer_empties()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var url = $"/api/v1/curl/request?response=transparent&url={Uri.EscapeDataString(upstream.Url("/bytes/100000"))}";
        await Assert.That((await sidecar.Client.GetByteArrayAsync(url)).Length).IsEqualTo(100000);
        await Assert.That(await Sample(sidecar, "hoody_curl_buffer_pool_allocated_bytes_total{pool=\"server\"}")).IsGreaterThan(0);
        await Assert.That(await Sample(sidecar, "hoody_curl_buffer_pool_allocated_bytes_total{pool=\"bodies\"}")).IsGreaterThan(0);
    }

    [Test]
    public async Task Buffers_of_a_large_body_burst_are_given_back_when_the_sidecar_goes_quiet()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        const int callers = 64, size = 1024 * 1024;
        // 64 callers × 1 MiB read slowly: the relay's pipes fill, many blocks are in use at once.
        using var client = new HttpClient { BaseAddress = sidecar.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var url = $"/api/v1/curl/request?response=transparent&url={Uri.EscapeDataString(upstream.Url($"/bytes/{size}"))}";
        var lengths = await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[16 * 1024];
            long total = 0;
            for (int n; (n = await body.ReadAsync(buffer)) > 0; total += n)
                if (total == 0) await Task.Delay(300); // the pipes fill before anyone drains them
            return total;
        }));
        await Assert.That(lengths.All(l => l == size)).IsTrue();
        const string bodiesFree = "hoody_curl_buffer_pool_free_bytes{pool=\"bodies\"}";
        const string serverFree = "hoody_curl_buffer_pool_free_bytes{pool=\"server\"}";
        var keptAfterBurst = await Sample(sidecar, bodiesFree) + await Sample(sidecar, serverFree);
        // The burst took many blocks from the pools at once (their monotonic totals: on a slow machine the trimmer may
        // already have run by the time the free bytes are sampled)...
        var allocated = await Sample(sidecar, "hoody_curl_buffer_pool_allocated_bytes_total{pool=\"bodies\"}")
            + await Sample(sidecar, "hoody_curl_buffer_pool_allocated_bytes_total{pool=\"server\"}");
        await Assert.That(allocated).IsGreaterThanOrEqualTo(8 * 1024 * 1024);

        // ...until the trimmer (sampling every 5 s) sees the process quiet: then the free blocks go (the scrapes
        // themselves use a few blocks again). Waited for with a deadline, not a fixed sleep.
        const double littleLeft = 1024 * 1024;
        double kept = keptAfterBurst;
        for (var deadline = DateTime.UtcNow.AddSeconds(40); DateTime.UtcNow < deadline && kept >= littleLeft; await Task.Delay(500))
            kept = await Sample(sidecar, bodiesFree) + await Sample(sidecar, serverFree);
        await Assert.That(kept).IsLessThan(littleLeft).Because($"{keptAfterBurst / 1048576:F1} MiB of free blocks after the burst, {kept / 1048576:F1} MiB at the deadline");
        // Scrapes allocate a little, and the collection after the trim left the heap small.
        await Assert.That(await Sample(sidecar, "dotnet_gc_heap_bytes")).IsLessThan(16 * 1024 * 1024);
    }
}
