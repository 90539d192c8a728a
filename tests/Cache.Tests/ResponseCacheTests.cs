// The cache over a real folder: store and serve, dedup, Vary, generation, readonly, corruption (flipped byte,
// truncation, torn index line), crash leftovers, file modes, eviction and collapsing.
using HoodyCurl.Cache.Store;
using HoodyCurl.Cache.Tests.Support;
using HoodyCurl.Kernel.Metrics;
using Microsoft.Extensions.Logging.Abstractions;

namespace HoodyCurl.Cache.Tests;

public class ResponseCacheTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Func<CancellationToken, ValueTask<IReadOnlyList<string>>> Local = _ => ValueTask.FromResult<IReadOnlyList<string>>(["127.0.0.1"]);

    private sealed class Fixture : IDisposable
    {
        private readonly TempDir _dir = new();
        private readonly List<ResponseCache> _opened = [];

        public Fixture() => Time = new ManualTime(T0);

        public ManualTime Time { get; }
        public MetricsRegistry Metrics { get; private set; } = new();
        public string CacheDir => Path.Combine(_dir.Path, "cache");

        public ResponseCache Open(CacheMode mode = CacheMode.ReadWrite, long generation = 0, long maxBytes = 1L << 30, long maxObject = 1L << 20, string ns = "ctn:p:c")
        {
            Metrics = new MetricsRegistry();
            var cache = new ResponseCache(new CacheOptions
            {
                Namespace = ns, Mode = mode, Generation = generation, MaxBytes = maxBytes, MaxObjectBytes = maxObject, MaxObjectBytesDecoded = maxObject * 2,
                CacheDir = CacheDir,
            }, new CacheMetrics(Metrics), Time, NullLogger.Instance);
            _opened.Add(cache);
            return cache;
        }

        public void Dispose()
        {
            foreach (var c in _opened) c.Dispose();
            _dir.Dispose();
        }
    }

    private static CacheRequest Get(string url, params string[] headers)
    {
        var list = new List<KeyValuePair<string, string>>();
        for (var i = 0; i + 1 < headers.Length; i += 2) list.Add(new(headers[i], headers[i + 1]));
        return new CacheRequest("GET", url, list);
    }

    private static List<KeyValuePair<string, string>> Head(params string[] pairs)
    {
        var list = new List<KeyValuePair<string, string>> { new("Date", T0.ToString("r")) };
        for (var i = 0; i + 1 < pairs.Length; i += 2) list.Add(new(pairs[i], pairs[i + 1]));
        return list;
    }

    private static async Task<bool> StoreAsync(ResponseCache cache, CacheRequest request, byte[] body, string? pin = "127.0.0.1", params string[] headers)
    {
        var writer = cache.BeginStore(request, 200, Head(headers.Length == 0 ? ["Cache-Control", "max-age=60"] : headers), false, T0);
        if (writer is null) return false;
        await using (writer)
        {
            foreach (var chunk in body.Chunk(1000)) await writer.WriteAsync(chunk, CancellationToken.None);
            return await writer.CommitAsync(pin, _ => ValueTask.FromResult<IReadOnlyList<string>>(pin is null ? [] : [pin]), CancellationToken.None);
        }
    }

    private static async Task<byte[]?> ReadAsync(CachedResponse? entry)
    {
        if (entry?.OpenBody() is not { } stream) return null;
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    private static string Ns(string ns) => "ns-" + CacheStore.Sha256Hex(ns);

    [Test]
    public async Task A_stored_response_is_a_hit_with_its_bytes_and_head()
    {
        using var f = new Fixture();
        var cache = f.Open();
        var body = new byte[5000];
        Random.Shared.NextBytes(body);
        await Assert.That(await StoreAsync(cache, Get("http://a.test/x"), body)).IsTrue();
        f.Time.Advance(TimeSpan.FromSeconds(10));
        var lookup = await cache.LookupAsync(Get("http://A.test:80/x#frag"), Local, CancellationToken.None);
        await Assert.That(lookup.Outcome).IsEqualTo(CacheOutcome.Hit);
        await Assert.That(lookup.Entry!.AgeSeconds).IsEqualTo(10);
        await Assert.That(lookup.Entry.Headers.Any(h => h.Key == "Content-Length" && h.Value == "5000")).IsTrue();
        await Assert.That(await ReadAsync(lookup.Entry)).IsEquivalentTo(body);
        f.Time.Advance(TimeSpan.FromSeconds(51));
        await Assert.That((await cache.LookupAsync(Get("http://a.test/x"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Miss);
    }

    [Test]
    public async Task Two_keys_with_one_body_share_one_content_file_with_private_modes()
    {
        using var f = new Fixture();
        var cache = f.Open();
        var body = "same body"u8.ToArray();
        await StoreAsync(cache, Get("http://a.test/1"), body);
        await StoreAsync(cache, Get("http://a.test/2"), body);
        var root = Path.Combine(f.CacheDir, Ns("ctn:p:c"));
        var contents = Directory.GetFiles(Path.Combine(root, "content"), "*", SearchOption.AllDirectories);
        await Assert.That(contents.Length).IsEqualTo(1);
        await Assert.That(Path.GetFileName(contents[0])).IsEqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)));
        await Assert.That(File.GetUnixFileMode(contents[0])).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await Assert.That(File.GetUnixFileMode(root)).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var index in Directory.GetFiles(Path.Combine(root, "index"), "*", SearchOption.AllDirectories))
            await Assert.That(File.GetUnixFileMode(index)).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // Removing one key keeps the shared body for the other.
        await Assert.That(cache.Purge("http://a.test/1")).IsEqualTo(1);
        await Assert.That(await ReadAsync((await cache.LookupAsync(Get("http://a.test/2"), Local, CancellationToken.None)).Entry)).IsEquivalentTo(body);
    }

    [Test]
    public async Task Vary_keeps_one_entry_per_header_value()
    {
        using var f = new Fixture();
        var cache = f.Open();
        await StoreAsync(cache, Get("http://a.test/v", "Accept-Language", "en"), "english"u8.ToArray(), "127.0.0.1", "Cache-Control", "max-age=60", "Vary", "Accept-Language");
        await StoreAsync(cache, Get("http://a.test/v", "Accept-Language", "fr"), "french"u8.ToArray(), "127.0.0.1", "Cache-Control", "max-age=60", "Vary", "Accept-Language");
        var en = await cache.LookupAsync(Get("http://a.test/v", "accept-language", "en"), Local, CancellationToken.None);
        var fr = await cache.LookupAsync(Get("http://a.test/v", "Accept-Language", "fr"), Local, CancellationToken.None);
        var de = await cache.LookupAsync(Get("http://a.test/v", "Accept-Language", "de"), Local, CancellationToken.None);
        await Assert.That(await ReadAsync(en.Entry)).IsEquivalentTo("english"u8.ToArray());
        await Assert.That(await ReadAsync(fr.Entry)).IsEquivalentTo("french"u8.ToArray());
        await Assert.That(de.Outcome).IsEqualTo(CacheOutcome.Miss);
        await Assert.That(await StoreAsync(cache, Get("http://a.test/s"), "x"u8.ToArray(), "127.0.0.1", "Cache-Control", "max-age=60", "Vary", "*")).IsFalse();
    }

    [Test]
    public async Task Another_generation_or_namespace_sees_nothing()
    {
        using var f = new Fixture();
        await StoreAsync(f.Open(), Get("http://a.test/g"), "gen0"u8.ToArray());
        var bumped = f.Open(generation: 1);
        await Assert.That((await bumped.LookupAsync(Get("http://a.test/g"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Miss);
        var other = f.Open(ns: "ctn:p:other");
        await Assert.That((await other.LookupAsync(Get("http://a.test/g"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Miss);
        // The bumped generation removed the old entry when it read it.
        await Assert.That((await f.Open().LookupAsync(Get("http://a.test/g"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Miss);
    }

    [Test]
    public async Task Pin_mismatch_is_a_bypass_and_counted()
    {
        using var f = new Fixture();
        var cache = f.Open();
        await StoreAsync(cache, Get("http://a.test/p"), "pinned"u8.ToArray(), "127.0.0.1");
        var lookup = await cache.LookupAsync(Get("http://a.test/p"), _ => ValueTask.FromResult<IReadOnlyList<string>>(["127.0.0.2"]), CancellationToken.None);
        await Assert.That(lookup.Outcome).IsEqualTo(CacheOutcome.Bypass);
        await Assert.That(lookup.Reason).IsEqualTo("pin_mismatch");
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_cache_pin_mismatch_total 1");
        await Assert.That((await cache.LookupAsync(Get("http://a.test/p"), _ => ValueTask.FromResult<IReadOnlyList<string>>(["::ffff:127.0.0.1"]), CancellationToken.None)).Outcome)
            .IsEqualTo(CacheOutcome.Hit);
    }

    [Test]
    public async Task A_response_from_an_address_outside_the_current_set_is_not_stored_and_counted()
    {
        using var f = new Fixture();
        var cache = f.Open();
        var writer = cache.BeginStore(Get("http://a.test/r"), 200, Head("Cache-Control", "max-age=60"), false, T0);
        await using (writer!)
        {
            await writer!.WriteAsync("elsewhere"u8.ToArray(), CancellationToken.None);
            var stored = await writer.CommitAsync("127.0.0.2", Local, CancellationToken.None);
            await Assert.That(stored).IsFalse();
        }
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_cache_skip_response_total{reason=\"pin_mismatch\"} 1");
        await Assert.That((await cache.LookupAsync(Get("http://a.test/r"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Miss);
        await Assert.That(Directory.GetFiles(Path.Combine(f.CacheDir, Ns("ctn:p:c"), "content"), "*", SearchOption.AllDirectories)).IsEmpty();
        // The same answer from an address in the set is stored (an IPv4-mapped spelling matches too).
        var again = cache.BeginStore(Get("http://a.test/r"), 200, Head("Cache-Control", "max-age=60"), false, T0);
        await using (again!)
        {
            await again!.WriteAsync("here"u8.ToArray(), CancellationToken.None);
            await Assert.That(await again.CommitAsync("::ffff:127.0.0.1", Local, CancellationToken.None)).IsTrue();
        }
        await Assert.That((await cache.LookupAsync(Get("http://a.test/r"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Hit);
    }

    [Test]
    [Arguments(100)]
    [Arguments(20 << 20)] // over VerifyUpfrontBytes: verified while streaming
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_body_verified_once_is_still_rehashed_after_any_change_to_its_file(int size)
    {
        using var f = new Fixture();
        var cache = f.Open(maxObject: 64L << 20);
        var body = new byte[size];
        Random.Shared.NextBytes(body);
        await StoreAsync(cache, Get("http://a.test/v"), body);
        var file = Directory.GetFiles(Path.Combine(f.CacheDir, Ns("ctn:p:c"), "content"), "*", SearchOption.AllDirectories).Single();
        // The identity is remembered once the file's ctime is settled (2 s): read (each read hashes the body until then)
        // until it is, with a deadline.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (cache.Store!.VerifiedCount == 0)
        {
            var hit = await cache.LookupAsync(Get("http://a.test/v"), Local, CancellationToken.None);
            await Assert.That(hit.Outcome).IsEqualTo(CacheOutcome.Hit);
            await Assert.That((await ReadAsync(hit.Entry))!.AsSpan().SequenceEqual(body)).IsTrue();
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the verified identity was never remembered");
            await Task.Delay(200);
        }
        // Same size, same inode, one flipped bit, mtime put back: ctime still moves, so the body is hashed again.
        var mtime = File.GetLastWriteTimeUtc(file);
        await using (var w = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            w.Position = size / 2;
            w.WriteByte((byte)(body[size / 2] ^ 0x01));
        }
        File.SetLastWriteTimeUtc(file, mtime);
        var after = await cache.LookupAsync(Get("http://a.test/v"), Local, CancellationToken.None);
        if (size <= CacheStore.VerifyUpfrontBytes)
        {
            await Assert.That(after.Outcome).IsEqualTo(CacheOutcome.Miss);
        }
        else
        {
            // A large body is verified while it streams: the read fails at the end instead of serving wrong bytes.
            await using var stream = after.Entry!.OpenBody()!;
            await Assert.ThrowsAsync<IOException>(async () => await stream.CopyToAsync(Stream.Null));
        }
        await Assert.That(File.Exists(file)).IsFalse();
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_cache_corrupt_total{reason=\"hash\"} 1");
    }

    [Test]
    [Arguments(0)]
    [Arguments(2999)]
    public async Task A_flipped_or_missing_byte_is_a_miss_removed_and_counted(int at)
    {
        using var f = new Fixture();
        var cache = f.Open();
        var body = new byte[3000];
        Random.Shared.NextBytes(body);
        await StoreAsync(cache, Get("http://a.test/c"), body);
        var file = Directory.GetFiles(Path.Combine(f.CacheDir, Ns("ctn:p:c"), "content"), "*", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(file);
        bytes[at] ^= 0x01;
        File.WriteAllBytes(file, bytes);
        await Assert.That((await cache.LookupAsync(Get("http://a.test/c"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Miss);
        await Assert.That(File.Exists(file)).IsFalse();
        await Assert.That(cache.Store!.EntryCount).IsEqualTo(0);
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_cache_corrupt_total{reason=\"hash\"} 1");

        await StoreAsync(cache, Get("http://a.test/t"), body);
        file = Directory.GetFiles(Path.Combine(f.CacheDir, Ns("ctn:p:c"), "content"), "*", SearchOption.AllDirectories).Single();
        File.WriteAllBytes(file, body[..^1]);
        await Assert.That((await cache.LookupAsync(Get("http://a.test/t"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Miss);
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_cache_corrupt_total{reason=\"size\"} 1");
    }

    [Test]
    public async Task A_torn_index_line_and_crash_leftovers_are_invisible_after_restart()
    {
        using var f = new Fixture();
        var cache = f.Open();
        await StoreAsync(cache, Get("http://a.test/ok"), "good"u8.ToArray());
        var root = Path.Combine(f.CacheDir, Ns("ctn:p:c"));
        var bucket = Directory.GetFiles(Path.Combine(root, "index"), "*", SearchOption.AllDirectories).Single();
        var line = File.ReadAllLines(bucket)[0];
        // A second line torn mid-write (as a crash leaves it), a half-written temp body, an orphan content file.
        File.AppendAllText(bucket, line[..(line.Length / 2)]);
        File.WriteAllText(Path.Combine(root, "tmp", "half"), "partial");
        var orphan = Path.Combine(root, "content", "ab", "cd", "abcd" + new string('0', 60));
        Directory.CreateDirectory(Path.GetDirectoryName(orphan)!);
        File.WriteAllText(orphan, "orphan");
        cache.Dispose();

        var restarted = f.Open();
        await Assert.That(await ReadAsync((await restarted.LookupAsync(Get("http://a.test/ok"), Local, CancellationToken.None)).Entry)).IsEquivalentTo("good"u8.ToArray());
        await Assert.That(Directory.GetFiles(Path.Combine(root, "tmp"))).IsEmpty();
        await Assert.That(File.Exists(orphan)).IsFalse();
    }

    [Test]
    public async Task Over_the_object_cap_is_not_stored()
    {
        using var f = new Fixture();
        var cache = f.Open(maxObject: 4000);
        await Assert.That(await StoreAsync(cache, Get("http://a.test/big"), new byte[4001])).IsFalse();
        await Assert.That(f.Metrics.Render()).Contains("hoody_curl_cache_skip_response_total{reason=\"too_large\"} 1");
        await Assert.That((await cache.LookupAsync(Get("http://a.test/big"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Miss);
        await Assert.That(Directory.GetFiles(Path.Combine(f.CacheDir, Ns("ctn:p:c"), "tmp"))).IsEmpty();
    }

    [Test]
    public async Task Readonly_serves_but_never_writes()
    {
        using var f = new Fixture();
        await StoreAsync(f.Open(), Get("http://a.test/r"), "r"u8.ToArray());
        var ro = f.Open(CacheMode.ReadOnly);
        await Assert.That((await ro.LookupAsync(Get("http://a.test/r"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Hit);
        await Assert.That(ro.BeginStore(Get("http://a.test/new"), 200, Head("Cache-Control", "max-age=60"), false, T0)).IsNull();
    }

    [Test]
    public async Task Invalidate_removes_the_urls_entries()
    {
        using var f = new Fixture();
        var cache = f.Open();
        await StoreAsync(cache, Get("http://a.test/i"), "i"u8.ToArray());
        cache.Invalidate("http://a.test/i");
        await Assert.That((await cache.LookupAsync(Get("http://a.test/i"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Miss);
    }

    [Test]
    public async Task Stale_with_validators_asks_for_revalidation_and_a_304_refreshes()
    {
        using var f = new Fixture();
        var cache = f.Open();
        await StoreAsync(cache, Get("http://a.test/e"), "etagged"u8.ToArray(), "127.0.0.1", "Cache-Control", "max-age=5", "ETag", "\"v1\"", "X-Version", "1");
        f.Time.Advance(TimeSpan.FromSeconds(10));
        var lookup = await cache.LookupAsync(Get("http://a.test/e"), Local, CancellationToken.None);
        await Assert.That(lookup.Outcome).IsEqualTo(CacheOutcome.Revalidate);
        await Assert.That(lookup.ConditionalHeaders.Single()).IsEqualTo(new KeyValuePair<string, string>("If-None-Match", "\"v1\""));
        var refreshed = cache.Refresh(Get("http://a.test/e"), lookup.Entry!, [new("X-Version", "2"), new("Date", f.Time.GetUtcNow().ToString("r"))], f.Time.GetUtcNow());
        await Assert.That(refreshed!.Headers.Single(h => h.Key == "X-Version").Value).IsEqualTo("2");
        await Assert.That(await ReadAsync(refreshed)).IsEquivalentTo("etagged"u8.ToArray());
        var again = await cache.LookupAsync(Get("http://a.test/e"), Local, CancellationToken.None);
        await Assert.That(again.Outcome).IsEqualTo(CacheOutcome.Hit);
        // only-if-cached with nothing fresh: unsatisfiable (504 at the door).
        f.Time.Advance(TimeSpan.FromSeconds(10));
        var onlyIfCached = await cache.LookupAsync(Get("http://a.test/e", "Cache-Control", "only-if-cached"), Local, CancellationToken.None);
        await Assert.That(onlyIfCached.Outcome).IsEqualTo(CacheOutcome.Unsatisfiable);
    }

    [Test]
    public async Task Eviction_keeps_the_directory_under_the_bound()
    {
        using var f = new Fixture();
        const long bound = 200_000;
        var cache = f.Open(maxBytes: bound);
        var root = Path.Combine(f.CacheDir, Ns("ctn:p:c"));
        for (var i = 0; i < 50; i++)
        {
            var body = new byte[20_000];
            Random.Shared.NextBytes(body);
            await StoreAsync(cache, Get($"http://a.test/e{i}"), body);
        }
        // Eviction runs on its own task and may still be deleting files while we look: wait with a
        // deadline until the real directory size is under the bound (files vanishing mid-walk count 0).
        var deadline = DateTime.UtcNow.AddSeconds(10);
        long onDisk;
        while ((onDisk = SizeOnDisk(root)) > bound && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Assert.That(onDisk).IsLessThanOrEqualTo(bound);
        await Assert.That(cache.Store!.TotalBytes).IsLessThanOrEqualTo(bound);
        await Assert.That(cache.Store.EntryCount).IsGreaterThan(0);
        // The newest entry survived (least recently used ones went first).
        await Assert.That((await cache.LookupAsync(Get("http://a.test/e49"), Local, CancellationToken.None)).Outcome).IsEqualTo(CacheOutcome.Hit);
    }

    static long SizeOnDisk(string root)
    {
        long total = 0;
        try
        {
            foreach (var p in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                try { total += new FileInfo(p).Length; }
                catch (FileNotFoundException) { }
            }
        }
        catch (DirectoryNotFoundException) { return long.MaxValue; } // a folder vanished mid-walk: look again
        return total;
    }

    [Test]
    public async Task Concurrent_misses_have_one_leader()
    {
        using var f = new Fixture();
        var cache = f.Open();
        var leader = await cache.CollapseAsync(Get("http://a.test/k"), CancellationToken.None);
        await Assert.That(leader.Leader).IsTrue();
        var followers = Enumerable.Range(0, 10).Select(_ => cache.CollapseAsync(Get("http://a.test/k"), CancellationToken.None).AsTask()).ToArray();
        await Assert.That(followers.Any(t => t.IsCompleted)).IsFalse();
        leader.Dispose();
        var tickets = await Task.WhenAll(followers);
        await Assert.That(tickets.All(t => !t.Leader)).IsTrue();
    }
}
