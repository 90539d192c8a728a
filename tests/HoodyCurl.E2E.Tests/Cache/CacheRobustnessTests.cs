// The cache's safety and limits against the real binary (issue 11 acceptance): request collapsing, the DNS-rebind
// pin across a restart, generation bump, a flipped byte in a content file, kill -9 during concurrent stores,
// eviction under --cache-max-bytes, purge-all, and the off switch.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Cache;

[System.Runtime.Versioning.SupportedOSPlatform("linux")] // file modes
public class CacheRobustnessTests
{

    [Test]
    public async Task A_hundred_concurrent_misses_reach_the_upstream_once_and_get_the_same_bytes()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(CacheEnvironment.CacheFlags);
        var name = CacheEnvironment.Unique("herd");
        // The upstream holds its answer 500 ms so every request arrives while the first is in flight.
        var json = $"{{\"url\":\"{upstream.Url($"/cacheable/{name}?cc=max-age=60&size=200000&delay_ms=500")}\"}}";
        var bodies = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            using var response = await sidecar.Client.PostAsync("/api/v1/curl/request", Api.Json(json));
            return (Status: (int)response.StatusCode, Bytes: await response.Content.ReadAsByteArrayAsync());
        }));
        await Assert.That(upstream.CacheableHits(name)).IsEqualTo(1);
        await Assert.That(bodies.All(b => b.Status == 200)).IsTrue();
        await Assert.That(bodies[0].Bytes.Length).IsEqualTo(200000);
        await Assert.That(bodies.All(b => b.Bytes.AsSpan().SequenceEqual(bodies[0].Bytes))).IsTrue();
    }

    [Test]
    public async Task A_stored_pin_not_in_the_current_resolution_is_bypassed_after_restart()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        var storage = Directory.CreateTempSubdirectory("hoody-e2e-cache-").FullName;
        try
        {
            var name = CacheEnvironment.Unique("pin");
            var url = $"http://pin.test:{upstream.Port}/cacheable/{name}?cc=max-age=600";
            await using (var first = await Sidecar.StartInAsync(storage, [.. CacheEnvironment.CacheFlags, "--resolve", $"pin.test:{upstream.Port}:127.0.0.1"]))
            {
                var (_, miss) = await CacheEnvironment.RequestAsync(first, url);
                await Assert.That(CacheEnvironment.CacheOf(miss)).IsEqualTo("miss");
                var (_, hit) = await CacheEnvironment.RequestAsync(first, url);
                await Assert.That(CacheEnvironment.CacheOf(hit)).IsEqualTo("hit");
                await first.StopAsync();
            }
            await using (var second = await Sidecar.StartInAsync(storage,
                [.. CacheEnvironment.CacheFlags, "--resolve", $"pin.test:{upstream.Port}:127.0.0.2", "--allow-cidr", "127.0.0.0/8"]))
            {
                await Assert.That(await CacheEnvironment.MetricAsync(second, "hoody_curl_cache_pin_mismatch_total")).IsEqualTo(0);
                var (status, body) = await CacheEnvironment.RequestAsync(second, url);
                // The upstream listens on 127.0.0.1 only: 127.0.0.2 refuses, so the answer is an upstream error, never the stored body.
                await Assert.That(status).IsNotEqualTo(200);
                await Assert.That(body.ToString()).DoesNotContain($"{name}#1");
                await Assert.That(await CacheEnvironment.MetricAsync(second, "hoody_curl_cache_pin_mismatch_total")).IsEqualTo(1);
                await Assert.That(await CacheEnvironment.MetricAsync(second, "hoody_curl_cache_bypass_total{reason=\"pin_mismatch\"}")).IsEqualTo(1);
                await Assert.That(upstream.CacheableHits(name)).IsEqualTo(1);
            }
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }

    [Test]
    public async Task A_generation_bump_turns_every_entry_into_a_miss()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        var storage = Directory.CreateTempSubdirectory("hoody-e2e-cache-").FullName;
        try
        {
            var names = Enumerable.Range(0, 3).Select(_ => CacheEnvironment.Unique("gen")).ToArray();
            await using (var first = await Sidecar.StartInAsync(storage, CacheEnvironment.CacheFlags))
            {
                foreach (var n in names) await CacheEnvironment.RequestAsync(first, upstream.Url($"/cacheable/{n}?cc=max-age=600"));
                await first.StopAsync();
            }
            await using (var same = await Sidecar.StartInAsync(storage, CacheEnvironment.CacheFlags))
            {
                foreach (var n in names)
                    await Assert.That(CacheEnvironment.CacheOf((await CacheEnvironment.RequestAsync(same, upstream.Url($"/cacheable/{n}?cc=max-age=600"))).Body)).IsEqualTo("hit");
                await same.StopAsync();
            }
            await using (var bumped = await Sidecar.StartInAsync(storage, [.. CacheEnvironment.CacheFlags, "--cache-generation", "2"]))
            {
                foreach (var n in names)
                    await Assert.That(CacheEnvironment.CacheOf((await CacheEnvironment.RequestAsync(bumped, upstream.Url($"/cacheable/{n}?cc=max-age=600"))).Body)).IsEqualTo("miss");
            }
            foreach (var n in names) await Assert.That(upstream.CacheableHits(n)).IsEqualTo(2);
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }

    [Test]
    public async Task A_flipped_byte_in_a_content_file_is_a_miss_removed_and_counted()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(CacheEnvironment.CacheFlags);
        var name = CacheEnvironment.Unique("flip");
        var url = upstream.Url($"/cacheable/{name}?cc=max-age=600&size=10000");
        await CacheEnvironment.RequestAsync(sidecar, url);
        var content = Path.Combine(CacheEnvironment.CacheRoot(sidecar.StorageDir), "content");
        var file = Directory.GetFiles(content, "*", SearchOption.AllDirectories).Single();
        await Assert.That(File.GetUnixFileMode(file)).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[5000] ^= 0x20;
        await File.WriteAllBytesAsync(file, bytes);

        var (_, after) = await CacheEnvironment.RequestAsync(sidecar, url);
        await Assert.That(CacheEnvironment.CacheOf(after)).IsEqualTo("miss");
        await Assert.That(after.GetProperty("body").GetString()).StartsWith($"{name}#2");
        await Assert.That(File.Exists(file)).IsFalse();
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_cache_corrupt_total{reason=\"hash\"}")).IsEqualTo(1);
        await Assert.That(upstream.CacheableHits(name)).IsEqualTo(2);
    }

    [Test]
    public async Task Kill_9_during_50_concurrent_stores_leaves_no_wrong_or_truncated_body()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        var storage = Directory.CreateTempSubdirectory("hoody-e2e-cache-").FullName;
        try
        {
            const int size = 300_000;
            var names = Enumerable.Range(0, 50).Select(i => CacheEnvironment.Unique("k9")).ToArray();
            string Url(string n, int i) => upstream.Url($"/cacheable/{n}?cc=max-age=600&size={size}&delay_ms={i * 100}");
            await using (var victim = await Sidecar.StartInAsync(storage, CacheEnvironment.CacheFlags))
            {
                var requests = names.Select((n, i) => victim.Client.PostAsync("/api/v1/curl/request", Api.Json($"{{\"url\":\"{Url(n, i)}\"}}"))).ToArray();
                // Kill once 5 stores are committed while the later ones (held up to 4.9 s upstream, so a slow machine
                // cannot finish them all before the kill) are still going.
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (DateTime.UtcNow < deadline)
                {
                    var (_, stats) = await victim.Client.GetJsonAsync("/api/v1/curl/cache");
                    if (stats.GetProperty("entries").GetInt32() >= 5) break;
                    await Task.Delay(5);
                }
                await victim.KillAsync();
                foreach (var r in requests)
                {
                    try { (await r).Dispose(); }
                    catch (HttpRequestException) { }
                    catch (TaskCanceledException) { }
                }
            }
            await using var restarted = await Sidecar.StartInAsync(storage, CacheEnvironment.CacheFlags);
            var served = 0;
            for (var i = 0; i < names.Length; i++)
            {
                var (status, body) = await CacheEnvironment.RequestAsync(restarted, Url(names[i], i), "{\"Cache-Control\":\"only-if-cached\"}");
                if (status == 504) continue; // not stored before the kill: absent, as it must be
                await Assert.That(status).IsEqualTo(200);
                var text = body.GetProperty("body").GetString()!;
                await Assert.That(text.Length).IsEqualTo(size);
                await Assert.That(text).StartsWith($"{names[i]}#1");
                served++;
            }
            await Assert.That(served).IsGreaterThanOrEqualTo(5);
            await Assert.That(served).IsLessThan(50);
            await Assert.That(Directory.GetFiles(Path.Combine(CacheEnvironment.CacheRoot(storage), "tmp"))).IsEmpty();
            Console.WriteLine($"kill -9: {served} of 50 entries survived intact, the rest are absent");
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }

    [Test]
    public async Task Eviction_keeps_the_directory_under_max_bytes_while_five_times_that_is_written()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        const long bound = 2_000_000;
        await using var sidecar = await Sidecar.StartAsync([.. CacheEnvironment.CacheFlags, "--cache-max-bytes", bound.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var root = CacheEnvironment.CacheRoot(sidecar.StorageDir);
        long peak = 0;
        for (var i = 0; i < 100; i++) // 100 × 100 kB = 5 × the bound
        {
            await CacheEnvironment.RequestAsync(sidecar, upstream.Url($"/cacheable/{CacheEnvironment.Unique("ev")}?cc=max-age=600&size=100000"));
            peak = Math.Max(peak, CacheEnvironment.DirectoryBytes(root));
        }
        // Eviction runs beside the requests: wait for it with a deadline.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (CacheEnvironment.DirectoryBytes(root) > bound && DateTime.UtcNow < deadline) await Task.Delay(50);
        await Assert.That(CacheEnvironment.DirectoryBytes(root)).IsLessThanOrEqualTo(bound);
        // Between two passes the directory may exceed the bound by the objects written since the last pass, never by much.
        await Assert.That(peak).IsLessThan(bound + 5 * 100_000);
        var (_, stats) = await sidecar.Client.GetJsonAsync("/api/v1/curl/cache");
        await Assert.That(stats.GetProperty("bytes").GetInt64()).IsLessThanOrEqualTo(bound);
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_cache_evicted_total")).IsGreaterThan(0);
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_cache_object_bytes_stored")).IsLessThanOrEqualTo(bound);
    }

    [Test]
    public async Task Purge_all_empties_the_cache()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(CacheEnvironment.CacheFlags);
        var names = Enumerable.Range(0, 3).Select(_ => CacheEnvironment.Unique("purge")).ToArray();
        foreach (var n in names) await CacheEnvironment.RequestAsync(sidecar, upstream.Url($"/cacheable/{n}?cc=max-age=600"));
        using var purge = await sidecar.Client.DeleteAsync("/api/v1/curl/cache");
        await Assert.That((await Api.ReadJsonAsync(purge)).GetProperty("deleted").GetInt32()).IsEqualTo(3);
        foreach (var n in names)
            await Assert.That(CacheEnvironment.CacheOf((await CacheEnvironment.RequestAsync(sidecar, upstream.Url($"/cacheable/{n}?cc=max-age=600"))).Body)).IsEqualTo("miss");
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_cache_object_count_stored")).IsEqualTo(3);
    }

    [Test]
    public async Task Async_jobs_are_served_from_the_cache_and_record_the_verdict()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(CacheEnvironment.CacheFlags);
        var name = CacheEnvironment.Unique("job");
        var url = upstream.Url($"/cacheable/{name}?cc=max-age=600");
        var verdicts = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var id = await HoodyCurl.E2E.Tests.Jobs.JobsApi.SubmitAsync(sidecar.Client, url);
            var job = await HoodyCurl.E2E.Tests.Jobs.JobsApi.WaitAsync(sidecar.Client, id);
            await Assert.That(job.GetProperty("status").GetString()).IsEqualTo("completed");
            verdicts.Add(job.GetProperty("response").GetProperty("cache").GetString()!);
        }
        await Assert.That(verdicts).IsEquivalentTo(new[] { "miss", "hit" }, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(upstream.CacheableHits(name)).IsEqualTo(1);
    }

    [Test]
    public async Task Off_by_default_caches_nothing_and_says_so()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var name = CacheEnvironment.Unique("off");
        var url = upstream.Url($"/cacheable/{name}?cc=max-age=600");
        var (_, first) = await CacheEnvironment.RequestAsync(sidecar, url);
        await CacheEnvironment.RequestAsync(sidecar, url);
        await Assert.That(first.TryGetProperty("cache", out _)).IsFalse();
        await Assert.That(upstream.CacheableHits(name)).IsEqualTo(2);
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_cache_enabled")).IsEqualTo(0);
        // Off: no lookup, nothing to bypass (docs/decisions.md); the series exists and stays 0.
        await Assert.That(await CacheEnvironment.MetricAsync(sidecar, "hoody_curl_cache_bypass_total{reason=\"cache_disabled\"}")).IsEqualTo(0);
        var (_, stats) = await sidecar.Client.GetJsonAsync("/api/v1/curl/cache");
        await Assert.That(stats.GetProperty("enabled").GetBoolean()).IsFalse();
    }
}
