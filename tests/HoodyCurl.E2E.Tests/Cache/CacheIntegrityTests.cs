// Integrity of a large hit served in transparent mode straight from its content file (issue 11): the bytes are
// exactly the stored ones on the first read after the store (hashed while sent) and after (unhashed: the file's
// verified identity holds), and a file changed underneath is hashed again, so the answer is cut instead of
// carrying a wrong byte, and the entry is removed and counted.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Cache;

public class CacheIntegrityTests
{
    [Test]
    public async Task A_large_transparent_hit_is_byte_exact_and_a_changed_file_cuts_the_answer()
    {
        const int size = 20 << 20; // over the 16 MiB verified-before-the-first-byte bound
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(CacheEnvironment.CacheFlags);
        var name = CacheEnvironment.Unique("big");
        var json = $"{{\"url\":\"{JsonEncodedText.Encode(upstream.Url($"/cacheable/{name}?cc=max-age=600&size={size}"))}\"}}";

        async Task<(string? XCache, byte[]? Body)> FetchAsync()
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, "/api/v1/curl/request") { Content = Api.Json(json) };
            using var response = await sidecar.Client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
            var xcache = response.Headers.TryGetValues("X-Cache", out var v) ? v.Single() : null;
            try
            {
                return (xcache, await response.Content.ReadAsByteArrayAsync());
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                return (xcache, null); // the answer was cut
            }
        }

        var (missStatus, stored) = await FetchAsync();
        await Assert.That(missStatus).IsEqualTo("MISS");
        await Assert.That(stored!.Length).IsEqualTo(size);
        // The first hits hash the body as they send it; a file version is trusted unhashed only once its ctime is 2 s
        // old (CacheStore.Remember), so the later hits, spaced out past that, take the unhashed path.
        for (var i = 0; i < 3; i++)
        {
            if (i > 0) await Task.Delay(1500);
            var (status, body) = await FetchAsync();
            await Assert.That(status).IsEqualTo("HIT");
            await Assert.That(body is not null && body.AsSpan().SequenceEqual(stored)).IsTrue();
        }
        await Assert.That(upstream.CacheableHits(name)).IsEqualTo(1);

        var file = Directory.GetFiles(Path.Combine(CacheEnvironment.CacheRoot(sidecar.StorageDir), "content"), "*", SearchOption.AllDirectories).Single();
        await using (var w = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            w.Position = size - 1000;
            w.WriteByte((byte)(stored[size - 1000] ^ 0x01));
        }
        var (cutStatus, cut) = await FetchAsync();
        await Assert.That(cutStatus).IsEqualTo("HIT"); // the head went out before the last byte was hashed
        await Assert.That(cut is null || cut.Length < size).IsTrue().Because("a changed body must never arrive whole");
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_cache_corrupt_total{reason=\"hash\"}")).IsEqualTo(1);
        await Assert.That(File.Exists(file)).IsFalse();

        var (refetched, fresh) = await FetchAsync();
        await Assert.That(refetched).IsEqualTo("MISS");
        await Assert.That(fresh!.Length).IsEqualTo(size);
        await Assert.That(upstream.CacheableHits(name)).IsEqualTo(2);
    }
}
