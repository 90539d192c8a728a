// Parsed URLs handed to libcurl with CURLOPT_CURLU, one cache per TransferLoop (touched on its thread only).
//
// Given only CURLOPT_URL, libcurl 7.88 parses the string for every transfer (curl_url_set) and prints it back as its
// normalised text (curl_url_get of the whole URL, through its own printf, one call per character): ~11k of ~170k
// instructions per relayed 1 KiB request (callgrind, issue 13). Given a parsed handle (CURLOPT_CURLU) and that normalised
// text (CURLOPT_URL), it only copies the handle (curl_url_dup, ~0.6k) — lib/url.c parseurlandfillconn; CURLOPT_URL being
// set keeps Curl_pretransfer from printing the handle's URL again.
//
// A URL is parsed the second time it is seen (a stream of distinct URLs costs a lookup, not a parse and a copy that
// never pay back), with the flags libcurl's own parse uses, so libcurl sees the same parts and text either way. A
// handle is freed only while no transfer holds it: libcurl reads it when the transfer connects (and again if it
// retries on a dead reused connection), so a transfer holds its entry from TransferSetup until TransferLoop.Finish.
using HoodyCurl.Requests.Native;

namespace HoodyCurl.Requests.Engine;

internal sealed class UrlCache(int capacity = UrlCache.DefaultCapacity) : IDisposable
{
    /// <summary>Distinct URLs remembered per loop (parsed or seen once); at the cap the entries no transfer holds go.</summary>
    internal const int DefaultCapacity = 256;

    internal sealed class Entry(string url)
    {
        public string Url { get; } = url;
        /// <summary>The parsed URL (CURLU *), 0 until the URL is seen a second time or when libcurl rejected it.</summary>
        public nint Handle { get; set; }
        /// <summary>libcurl's normalised text of the URL (char *, curl_free), what CURLOPT_URL is set to.</summary>
        public nint Text { get; set; }
        /// <summary>libcurl refused the URL: it gets no handle, and libcurl's own parse reports the error.</summary>
        public bool Rejected { get; set; }
        /// <summary>Transfers holding the handle: it is not freed while any does.</summary>
        public int Holders { get; set; }
    }

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    /// <summary>New URLs to see before the next sweep, when a sweep could not bring the cache under half its capacity.</summary>
    private int _sweepDelay;

    internal int Count => _entries.Count;
    /// <summary>Transfers given a parsed URL (tests read it).</summary>
    internal long Hits { get; private set; }

    /// <summary>
    /// The parsed form of <paramref name="url"/> for a transfer, or null (first sighting, refused by libcurl, or the
    /// cache full of URLs in use): the caller then sets CURLOPT_URL to the string and CURLOPT_CURLU to nothing.
    /// Every entry returned is given back with <see cref="Release"/>.
    /// </summary>
    public Entry? Acquire(string url)
    {
        if (_entries.TryGetValue(url, out var entry))
        {
            if (entry.Handle == 0 && !entry.Rejected) Parse(entry);
            if (entry.Handle == 0) return null;
            entry.Holders++;
            Hits++;
            return entry;
        }
        if (_entries.Count >= capacity && !Sweep()) return null;
        _entries[url] = new Entry(url);
        return null;
    }

    public void Release(Entry entry) => entry.Holders--;

    private static void Parse(Entry entry)
    {
        var handle = LibCurl.curl_url();
        if (handle == 0) return; // out of memory: libcurl's own parse will say so
        if (LibCurl.curl_url_set(handle, CurlUrl.PART_URL, entry.Url, CurlUrl.GUESS_SCHEME | CurlUrl.NON_SUPPORT_SCHEME) != 0
            || LibCurl.curl_url_get(handle, CurlUrl.PART_URL, out var text, 0) != 0 || text == 0)
        {
            LibCurl.curl_url_cleanup(handle);
            entry.Rejected = true;
            return;
        }
        entry.Handle = handle;
        entry.Text = text;
    }

    /// <summary>Drops every entry no transfer holds; false when the cache stays full (then nothing new is added for a while).</summary>
    private bool Sweep()
    {
        if (_sweepDelay > 0)
        {
            _sweepDelay--;
            return false;
        }
        List<string>? gone = null;
        foreach (var entry in _entries.Values)
        {
            if (entry.Holders > 0) continue;
            Free(entry);
            (gone ??= []).Add(entry.Url);
        }
        if (gone is not null) foreach (var url in gone) _entries.Remove(url);
        // Most entries held by running transfers (more distinct URLs in flight than the cap): sweeping again at the next
        // new URL would walk them all for nothing.
        if (_entries.Count > capacity / 2) _sweepDelay = capacity / 2;
        return _entries.Count < capacity;
    }

    private static void Free(Entry entry)
    {
        if (entry.Handle != 0) LibCurl.curl_url_cleanup(entry.Handle);
        if (entry.Text != 0) LibCurl.curl_free(entry.Text);
        entry.Handle = 0;
        entry.Text = 0;
    }

    /// <summary>Frees every entry: the loop has ended, and its handles are gone.</summary>
    public void Dispose()
    {
        foreach (var entry in _entries.Values) Free(entry);
        _entries.Clear();
    }
}
