// RFC 9111 private-cache rules as tables: request skips, response skips, freshness lifetime, age, and what the
// request's directives allow. Pure functions, no I/O.
using HoodyCurl.Cache.Policy;

namespace HoodyCurl.Cache.Tests;

public class CachePolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static List<KeyValuePair<string, string>> H(params string[] pairs)
    {
        var list = new List<KeyValuePair<string, string>>();
        for (var i = 0; i + 1 < pairs.Length; i += 2) list.Add(new(pairs[i], pairs[i + 1]));
        return list;
    }

    [Test]
    [Arguments("GET", "http://a.test/x", "", "", null)]
    [Arguments("HEAD", "http://a.test/x", "", "", null)]
    [Arguments("POST", "http://a.test/x", "", "", "method_not_cacheable")]
    [Arguments("PUT", "http://a.test/x", "", "", "method_not_cacheable")]
    [Arguments("GET", "http://u:p@a.test/x", "", "", "url_userinfo")]
    [Arguments("GET", "http://a.test/x", "Authorization", "Basic eA==", "authorization_header")]
    [Arguments("GET", "http://a.test/x", "cookie", "a=1", "cookie")]
    [Arguments("GET", "http://a.test/x", "Range", "bytes=0-1", "range")]
    [Arguments("GET", "http://a.test/x", "Proxy-Authorization", "x", "unsafe_request_header")]
    [Arguments("GET", "http://a.test/x", "If-None-Match", "\"v1\"", "unsafe_request_header")]
    [Arguments("GET", "http://a.test/x", "Cache-Control", "no-store", "no_store")]
    [Arguments("GET", "http://a.test/x", "Accept", "text/plain", null)]
    public async Task Request_skip_reasons(string method, string url, string header, string value, string? expected)
    {
        var headers = header.Length == 0 ? H() : H(header, value);
        var request = new CacheRequest(method, url, headers);
        await Assert.That(CachePolicy.RequestSkip(request, CacheControl.Parse(headers))).IsEqualTo(expected);
    }

    [Test]
    [Arguments("cookie")]
    [Arguments("bearer_token")]
    [Arguments("session_id")]
    [Arguments("non_default_security")]
    public async Task Caller_state_named_by_the_engine_is_the_reason(string state)
    {
        var request = new CacheRequest("GET", "http://a.test/x", []) { CallerState = state };
        await Assert.That(CachePolicy.RequestSkip(request, CacheControl.None)).IsEqualTo(state);
    }

    [Test]
    [Arguments(200, "Cache-Control", "max-age=60", false, null)]
    [Arguments(200, "Cache-Control", "private, max-age=60", false, null)]
    [Arguments(200, "Cache-Control", "no-store", false, "no_store")]
    [Arguments(200, "Cache-Control", "no-cache", false, "not_fresh")]
    [Arguments(200, "Set-Cookie", "a=1", false, "response_set_cookie")]
    [Arguments(200, "Vary", "*", false, "vary_star")]
    [Arguments(200, "Content-Type", "text/event-stream", false, "event_stream")]
    [Arguments(200, "Content-Length", "2000", false, "too_large")]
    [Arguments(200, "Content-Encoding", "gzip", false, "encoded_body")]
    [Arguments(200, "Content-Encoding", "gzip", true, "not_fresh")]
    [Arguments(206, "Cache-Control", "max-age=60", false, "status_not_cacheable")]
    [Arguments(500, "Cache-Control", "max-age=60", false, "status_not_cacheable")]
    [Arguments(302, "Location", "/y", false, "status_not_cacheable")]
    [Arguments(302, "Cache-Control", "max-age=60", false, null)]
    [Arguments(404, "Last-Modified", "Sat, 01 Feb 2026 12:00:00 GMT", false, null)]
    [Arguments(200, "ETag", "\"v1\"", false, null)]
    [Arguments(200, "Expires", "Sun, 01 Mar 2026 13:00:00 GMT", false, null)]
    public async Task Response_skip_reasons(int status, string header, string value, bool decoded, string? expected)
    {
        var headers = H(header, value);
        await Assert.That(CachePolicy.ResponseSkip(status, headers, decoded, 1000)).IsEqualTo(expected);
    }

    [Test]
    [Arguments("Cache-Control", "max-age=120", 120)]
    [Arguments("Cache-Control", "s-maxage=500, max-age=30", 30)]
    [Arguments("Cache-Control", "s-maxage=500", 0)]
    [Arguments("Expires", "Sun, 01 Mar 2026 12:10:00 GMT", 600)]
    [Arguments("Expires", "0", 0)]
    [Arguments("Last-Modified", "Sat, 28 Feb 2026 12:00:00 GMT", 8640)]
    [Arguments("Last-Modified", "Thu, 01 Jan 2026 12:00:00 GMT", 86400)]
    [Arguments("ETag", "\"x\"", 0)]
    public async Task Freshness_lifetime(string header, string value, int seconds)
    {
        var headers = H("Date", "Sun, 01 Mar 2026 12:00:00 GMT", header, value);
        await Assert.That(CachePolicy.FreshnessLifetime(200, headers, T0)).IsEqualTo(TimeSpan.FromSeconds(seconds));
    }

    [Test]
    public async Task Heuristic_freshness_only_for_statuses_cacheable_by_default()
    {
        var headers = H("Date", "Sun, 01 Mar 2026 12:00:00 GMT", "Last-Modified", "Sat, 28 Feb 2026 12:00:00 GMT");
        await Assert.That(CachePolicy.FreshnessLifetime(302, headers, T0)).IsEqualTo(TimeSpan.Zero);
        await Assert.That(CachePolicy.FreshnessLifetime(404, headers, T0)).IsEqualTo(TimeSpan.FromSeconds(8640));
    }

    [Test]
    [Arguments("", 0, 2, 0, 32)]          // resident 30 s + response delay 2 s
    [Arguments("100", 0, 0, 0, 130)]      // Age header adds up
    [Arguments("", -50, 0, 0, 80)]        // Date 50 s before the response arrived: apparent age 50
    public async Task Current_age(string age, int dateOffset, int delay, int unused, int expected)
    {
        _ = unused;
        var responseTime = T0;
        var requestTime = T0.AddSeconds(-delay);
        var headers = H("Date", T0.AddSeconds(dateOffset).ToString("r"));
        if (age.Length > 0) headers.Add(new("Age", age));
        var now = T0.AddSeconds(30);
        await Assert.That(CachePolicy.CurrentAge(headers, requestTime, responseTime, now)).IsEqualTo(TimeSpan.FromSeconds(expected));
    }

    [Test]
    [Arguments("", "max-age=60", 30, "Fresh")]
    [Arguments("", "max-age=60", 61, "MustRevalidate")]
    [Arguments("no-cache", "max-age=60", 1, "MustRevalidate")]
    [Arguments("", "no-cache, max-age=60", 1, "MustRevalidate")]
    [Arguments("max-age=10", "max-age=60", 20, "MustRevalidate")]
    [Arguments("max-age=30", "max-age=60", 20, "Fresh")]
    [Arguments("min-fresh=50", "max-age=60", 20, "MustRevalidate")]
    [Arguments("min-fresh=30", "max-age=60", 20, "Fresh")]
    [Arguments("max-stale", "max-age=60", 600, "StaleAllowed")]
    [Arguments("max-stale=100", "max-age=60", 100, "StaleAllowed")]
    [Arguments("max-stale=10", "max-age=60", 100, "MustRevalidate")]
    [Arguments("max-stale", "max-age=60, must-revalidate", 100, "MustRevalidate")]
    [Arguments("only-if-cached", "max-age=60", 10, "Fresh")]
    public async Task Request_directives(string request, string response, int age, string expected)
    {
        var req = CacheControl.Parse(request.Length == 0 ? H() : H("Cache-Control", request));
        var res = CacheControl.Parse(H("Cache-Control", response));
        var lifetime = CachePolicy.FreshnessLifetime(200, H("Cache-Control", response), T0);
        await Assert.That(CachePolicy.Evaluate(req, res, lifetime, TimeSpan.FromSeconds(age)).ToString()).IsEqualTo(expected);
    }

    [Test]
    public async Task Pragma_no_cache_without_cache_control_means_no_cache()
    {
        await Assert.That(CacheControl.Parse(H("Pragma", "no-cache")).NoCache).IsTrue();
        await Assert.That(CacheControl.Parse(H("Pragma", "no-cache", "Cache-Control", "max-age=5")).NoCache).IsFalse();
    }

    [Test]
    public async Task Vary_names_and_values()
    {
        await Assert.That(CachePolicy.VaryNames("Accept-Language, accept")).IsEquivalentTo(new[] { "accept", "accept-language" });
        await Assert.That(CachePolicy.VaryNames("accept, *")).IsNull();
        var values = CachePolicy.VaryValues(["accept", "x-missing"], H("Accept", "text/html"));
        await Assert.That(values["accept"]).IsEqualTo("text/html");
        await Assert.That(values["x-missing"]).IsEqualTo("");
    }

    [Test]
    public async Task A_304_replaces_stored_fields_of_the_same_name()
    {
        var merged = CachePolicy.MergeHeaders(H("ETag", "\"1\"", "X-A", "old", "Content-Type", "text/plain"), H("X-A", "new", "Content-Length", "0"));
        await Assert.That(merged.Select(h => h.Key + "=" + h.Value)).IsEquivalentTo(new[] { "ETag=\"1\"", "Content-Type=text/plain", "X-A=new" });
    }
}
