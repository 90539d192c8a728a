// The parsed-URL cache over real libcurl: a URL is parsed the second time it is seen, into the parts and the normalised
// text libcurl's own parse gives; a URL libcurl refuses gets no handle (libcurl's parse then reports it); at the cap the
// entries no transfer holds go, and an entry a transfer holds is never freed under it.
using System.Runtime.InteropServices;
using HoodyCurl.Requests.Engine;
using HoodyCurl.Requests.Native;

namespace HoodyCurl.Requests.Tests.Engine;

public class UrlCacheTests
{
    private const int PartHost = 5, PartPath = 7, PartQuery = 8; // CURLUPART_HOST, _PATH, _QUERY

    private static string? Part(nint handle, int part)
    {
        if (LibCurl.curl_url_get(handle, part, out var text, 0) != 0) return null;
        try { return Marshal.PtrToStringUTF8(text); }
        finally { LibCurl.curl_free(text); }
    }

    [Test]
    public async Task A_url_is_parsed_the_second_time_it_is_seen_into_libcurls_normalised_text()
    {
        CurlRuntime.EnsureInitialized();
        using var cache = new UrlCache();
        const string url = "http://127.0.0.1:8080/a/../b?x=1";
        await Assert.That(cache.Acquire(url)).IsNull(); // seen once: libcurl parses it itself
        var entry = cache.Acquire(url);
        await Assert.That(entry).IsNotNull();
        await Assert.That(entry!.Handle).IsNotEqualTo(0);
        await Assert.That(Marshal.PtrToStringUTF8(entry.Text)).IsEqualTo("http://127.0.0.1:8080/b?x=1");
        await Assert.That(Part(entry.Handle, PartHost)).IsEqualTo("127.0.0.1");
        await Assert.That(Part(entry.Handle, PartPath)).IsEqualTo("/b");
        await Assert.That(Part(entry.Handle, PartQuery)).IsEqualTo("x=1");
        await Assert.That(entry.Holders).IsEqualTo(1);
        // The same entry again, held twice.
        await Assert.That(cache.Acquire(url)).IsSameReferenceAs(entry);
        await Assert.That(entry.Holders).IsEqualTo(2);
        await Assert.That(cache.Hits).IsEqualTo(2);
        cache.Release(entry);
        cache.Release(entry);
        await Assert.That(entry.Holders).IsEqualTo(0);

        // No path: libcurl's text has the "/" it sends.
        await Assert.That(cache.Acquire("http://127.0.0.1:9")).IsNull();
        await Assert.That(Marshal.PtrToStringUTF8(cache.Acquire("http://127.0.0.1:9")!.Text)).IsEqualTo("http://127.0.0.1:9/");
    }

    [Test]
    public async Task A_url_libcurl_refuses_never_gets_a_handle()
    {
        CurlRuntime.EnsureInitialized();
        using var cache = new UrlCache();
        foreach (var url in new[] { "http://[::1", "http://exa mple.com/", "" })
        {
            for (var i = 0; i < 3; i++) await Assert.That(cache.Acquire(url)).IsNull();
        }
        await Assert.That(cache.Hits).IsEqualTo(0);
    }

    [Test]
    public async Task At_the_cap_the_entries_no_transfer_holds_go_and_a_held_one_stays_usable()
    {
        CurlRuntime.EnsureInitialized();
        using var cache = new UrlCache(capacity: 4);
        string Url(int i) => $"http://127.0.0.1:8080/{i}";
        // Four URLs parsed and held, as by four running transfers.
        var held = new List<UrlCache.Entry>();
        for (var i = 0; i < 4; i++)
        {
            cache.Acquire(Url(i));
            held.Add(cache.Acquire(Url(i))!);
        }
        await Assert.That(cache.Count).IsEqualTo(4);
        // Full of held entries: a new URL is not remembered, and no held handle is freed.
        await Assert.That(cache.Acquire(Url(4))).IsNull();
        await Assert.That(cache.Acquire(Url(4))).IsNull();
        await Assert.That(cache.Count).IsEqualTo(4);
        foreach (var entry in held) await Assert.That(entry.Handle).IsNotEqualTo(0);
        await Assert.That(Part(held[2].Handle, PartPath)).IsEqualTo("/2");

        // Three transfers finish; one still runs. After the sweep delay the next new URL sweeps the three away.
        for (var i = 0; i < 3; i++) cache.Release(held[i]);
        var swept = false;
        for (var i = 0; i < 8 && !swept; i++)
        {
            cache.Acquire(Url(100 + i));
            swept = cache.Count < 4;
        }
        await Assert.That(swept).IsTrue();
        foreach (var entry in held.Take(3)) await Assert.That(entry.Handle).IsEqualTo(0);
        await Assert.That(held[3].Handle).IsNotEqualTo(0);
        await Assert.That(Part(held[3].Handle, PartPath)).IsEqualTo("/3");
        // The held entry is still the cache's: seen again, it is the same parsed URL.
        await Assert.That(cache.Acquire(Url(3))).IsSameReferenceAs(held[3]);
    }
}
