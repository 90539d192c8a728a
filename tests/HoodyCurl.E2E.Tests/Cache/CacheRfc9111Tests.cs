// RFC 9111 private-cache rules against the real binary and a test upstream that counts its hits (issue 11
// acceptance, first point): each row sends a first request, then a second, and checks how many requests
// reached the upstream, the envelope's "cache" verdict, and the reason counted in /metrics.
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Cache;

[ClassDataSource<CacheEnvironment>(Shared = SharedType.PerClass)]
public class CacheRfc9111Tests(CacheEnvironment env)
{
    // id | upstream query | 1st request headers | 2nd request (headers JSON or extra fields) | 2nd verdict | upstream hits | metric that must be ≥ 1
    [Test]
    [Arguments("fresh_hit", "cc=max-age=60", null, null, null, "hit", 1, "hoody_curl_cache_hit_total")]
    [Arguments("private_is_stored", "cc=private,max-age=60", null, null, null, "hit", 1, "hoody_curl_cache_hit_total")]
    [Arguments("s_maxage_ignored", "cc=s-maxage=600", null, null, null, "miss", 2, "hoody_curl_cache_skip_response_total{reason=\"not_fresh\"}")]
    [Arguments("expired_by_date_and_age", "cc=max-age=60&date_offset=-120", null, null, null, "miss", 2, "hoody_curl_cache_miss_total")]
    [Arguments("expires_header", "expires=60", null, null, null, "hit", 1, "hoody_curl_cache_hit_total")]
    [Arguments("expires_in_the_past", "expires=-5", null, null, null, "miss", 2, "hoody_curl_cache_miss_total")]
    [Arguments("heuristic_last_modified", "lm=1", null, null, null, "hit", 1, "hoody_curl_cache_hit_total")]
    [Arguments("response_no_store", "cc=no-store", null, null, null, "miss", 2, "hoody_curl_cache_skip_response_total{reason=\"no_store\"}")]
    [Arguments("response_set_cookie", "cc=max-age=60&cookie=1", null, null, null, "miss", 2, "hoody_curl_cache_skip_response_total{reason=\"response_set_cookie\"}")]
    [Arguments("vary_star", "cc=max-age=60&vary=*", null, null, null, "miss", 2, "hoody_curl_cache_skip_response_total{reason=\"vary_star\"}")]
    [Arguments("no_cache_revalidates", "cc=no-cache&etag=%22v1%22", null, null, null, "revalidated", 2, "hoody_curl_cache_hit_total")]
    [Arguments("must_revalidate_304_lm", "cc=max-age=0,must-revalidate&lm=1", null, null, null, "revalidated", 2, "hoody_curl_cache_hit_total")]
    [Arguments("req_authorization", "cc=max-age=60", null, "H:{\"Authorization\":\"Bearer x\"}", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"authorization_header\"}")]
    [Arguments("req_cookie_field", "cc=max-age=60", null, "F:\"cookie\":\"a=1\"", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"cookie\"}")]
    [Arguments("req_cookie_header", "cc=max-age=60", null, "H:{\"Cookie\":\"a=1\"}", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"cookie\"}")]
    [Arguments("req_bearer", "cc=max-age=60", null, "F:\"bearer_token\":\"t\"", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"bearer_token\"}")]
    [Arguments("req_auth_user", "cc=max-age=60", null, "F:\"auth_user\":\"u\",\"auth_password\":\"p\"", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"auth_credentials\"}")]
    [Arguments("req_session", "cc=max-age=60", null, "F:\"session_id\":\"cache-e2e\"", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"session_id\"}")]
    [Arguments("req_range", "cc=max-age=60", null, "F:\"range\":\"0-3\"", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"range\"}")]
    [Arguments("req_insecure", "cc=max-age=60", null, "F:\"insecure\":true", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"non_default_security\"}")]
    [Arguments("req_unsafe_header", "cc=max-age=60", null, "H:{\"X-Api-Key\":\"k\"}", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"unsafe_request_header\"}")]
    [Arguments("req_no_store", "cc=max-age=60", null, "H:{\"Cache-Control\":\"no-store\"}", null, "bypass", 2, "hoody_curl_cache_skip_request_total{reason=\"no_store\"}")]
    [Arguments("req_no_cache", "cc=max-age=60&etag=%22v1%22", null, "H:{\"Cache-Control\":\"no-cache\"}", null, "revalidated", 2, "hoody_curl_cache_hit_total")]
    [Arguments("req_max_age_0", "cc=max-age=60", null, "H:{\"Cache-Control\":\"max-age=0\"}", null, "miss", 2, "hoody_curl_cache_miss_total")]
    [Arguments("req_max_age_ok", "cc=max-age=60", null, "H:{\"Cache-Control\":\"max-age=30\"}", null, "hit", 1, "hoody_curl_cache_hit_total")]
    [Arguments("req_min_fresh", "cc=max-age=60", null, "H:{\"Cache-Control\":\"min-fresh=120\"}", null, "miss", 2, "hoody_curl_cache_miss_total")]
    [Arguments("req_max_stale", "cc=max-age=60&date_offset=-120", null, "H:{\"Cache-Control\":\"max-stale\"}", null, "stale", 1, "hoody_curl_cache_hit_total")]
    [Arguments("req_max_stale_too_old", "cc=max-age=60&date_offset=-120", null, "H:{\"Cache-Control\":\"max-stale=10\"}", null, "miss", 2, "hoody_curl_cache_miss_total")]
    [Arguments("req_only_if_cached_hit", "cc=max-age=60", null, "H:{\"Cache-Control\":\"only-if-cached\"}", null, "hit", 1, "hoody_curl_cache_hit_total")]
    public async Task Second_request(string id, string query, string? first, string? second, string? unused, string verdict, int hits, string metric)
    {
        _ = unused;
        _ = first;
        var name = CacheEnvironment.Unique(id.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant()[..Math.Min(8, id.Length)]);
        var url = env.Upstream.Url($"/cacheable/{name}?{query}");
        var (s1, e1) = await CacheEnvironment.RequestAsync(env.Sidecar, url);
        await Assert.That(s1).IsEqualTo(200);
        await Assert.That(CacheEnvironment.CacheOf(e1)).IsEqualTo("miss");
        string? headers = null, extra = null;
        if (second?.StartsWith("H:", StringComparison.Ordinal) == true) headers = second[2..];
        if (second?.StartsWith("F:", StringComparison.Ordinal) == true) extra = second[2..];
        var (s2, e2) = await CacheEnvironment.RequestAsync(env.Sidecar, url, headers, extra);
        await Assert.That(s2 is 200 or 206).IsTrue().Because($"status {s2}: {e2}");
        await Assert.That(CacheEnvironment.CacheOf(e2)).IsEqualTo(verdict);
        await Assert.That(env.Upstream.CacheableHits(name)).IsEqualTo(hits);
        await Assert.That(await CacheEnvironment.MetricAsync(env.Sidecar, metric)).IsGreaterThanOrEqualTo(1);
        // A hit serves the first response's bytes; anything that reached the upstream got the newer ones.
        var body = e2.GetProperty("body").GetString()!;
        if (verdict is "hit" or "stale" or "revalidated") await Assert.That(body).StartsWith($"{name}#1");
    }

    [Test]
    public async Task A_304_refreshes_the_stored_headers_and_serves_the_stored_body()
    {
        var name = CacheEnvironment.Unique("reval");
        var url = env.Upstream.Url($"/cacheable/{name}?cc=max-age=0&etag=%22e1%22");
        var (_, first) = await CacheEnvironment.RequestAsync(env.Sidecar, url);
        await Assert.That(first.GetProperty("headers").GetProperty("x-hit").GetString()).IsEqualTo("1");
        var (_, second) = await CacheEnvironment.RequestAsync(env.Sidecar, url);
        await Assert.That(CacheEnvironment.CacheOf(second)).IsEqualTo("revalidated");
        await Assert.That(env.Upstream.CacheableConditionalHits(name)).IsEqualTo(1);
        await Assert.That(second.GetProperty("headers").GetProperty("x-hit").GetString()).IsEqualTo("2");
        await Assert.That(second.GetProperty("body").GetString()).IsEqualTo($"{name}#1");
        await Assert.That(second.GetProperty("status_code").GetInt32()).IsEqualTo(200);
    }

    [Test]
    public async Task Vary_on_one_and_two_headers_keeps_one_entry_per_value()
    {
        var one = CacheEnvironment.Unique("vary1");
        var url1 = env.Upstream.Url($"/cacheable/{one}?cc=max-age=60&vary=Accept-Language");
        await CacheEnvironment.RequestAsync(env.Sidecar, url1, "{\"Accept-Language\":\"en\"}");
        var (_, fr) = await CacheEnvironment.RequestAsync(env.Sidecar, url1, "{\"Accept-Language\":\"fr\"}");
        var (_, en) = await CacheEnvironment.RequestAsync(env.Sidecar, url1, "{\"Accept-Language\":\"en\"}");
        var (_, fr2) = await CacheEnvironment.RequestAsync(env.Sidecar, url1, "{\"Accept-Language\":\"fr\"}");
        await Assert.That(CacheEnvironment.CacheOf(fr)).IsEqualTo("miss");
        await Assert.That(en.GetProperty("body").GetString()).IsEqualTo($"{one}#1");
        await Assert.That(fr2.GetProperty("body").GetString()).IsEqualTo($"{one}#2");
        await Assert.That(env.Upstream.CacheableHits(one)).IsEqualTo(2);

        var two = CacheEnvironment.Unique("vary2");
        var url2 = env.Upstream.Url($"/cacheable/{two}?cc=max-age=60&vary=Accept-Language,Accept");
        await CacheEnvironment.RequestAsync(env.Sidecar, url2, "{\"Accept-Language\":\"en\",\"Accept\":\"text/plain\"}");
        var (_, otherAccept) = await CacheEnvironment.RequestAsync(env.Sidecar, url2, "{\"Accept-Language\":\"en\",\"Accept\":\"text/html\"}");
        var (_, same) = await CacheEnvironment.RequestAsync(env.Sidecar, url2, "{\"Accept-Language\":\"en\",\"Accept\":\"text/plain\"}");
        await Assert.That(CacheEnvironment.CacheOf(otherAccept)).IsEqualTo("miss");
        await Assert.That(CacheEnvironment.CacheOf(same)).IsEqualTo("hit");
        await Assert.That(env.Upstream.CacheableHits(two)).IsEqualTo(2);
    }

    [Test]
    [Arguments("POST")]
    [Arguments("PUT")]
    [Arguments("DELETE")]
    public async Task A_successful_unsafe_method_invalidates_the_url(string method)
    {
        var name = CacheEnvironment.Unique("inval");
        var url = env.Upstream.Url($"/cacheable/{name}?cc=max-age=60");
        await CacheEnvironment.RequestAsync(env.Sidecar, url);
        var (_, hit) = await CacheEnvironment.RequestAsync(env.Sidecar, url);
        await Assert.That(CacheEnvironment.CacheOf(hit)).IsEqualTo("hit");
        var (status, changed) = await CacheEnvironment.RequestAsync(env.Sidecar, url, null, $"\"method\":\"{method}\"");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(CacheEnvironment.CacheOf(changed)).IsEqualTo("bypass");
        var (_, after) = await CacheEnvironment.RequestAsync(env.Sidecar, url);
        await Assert.That(CacheEnvironment.CacheOf(after)).IsEqualTo("miss");
        await Assert.That(env.Upstream.CacheableHits(name)).IsEqualTo(3);
    }

    [Test]
    public async Task Only_if_cached_with_nothing_stored_is_504_without_contacting_the_upstream()
    {
        var name = CacheEnvironment.Unique("oic");
        var (status, error) = await CacheEnvironment.RequestAsync(env.Sidecar, env.Upstream.Url($"/cacheable/{name}?cc=max-age=60"),
            "{\"Cache-Control\":\"only-if-cached\"}");
        await Assert.That(status).IsEqualTo(504);
        await Assert.That(error.GetProperty("code").GetString()).IsEqualTo("NOT_CACHED");
        await Assert.That(env.Upstream.CacheableHits(name)).IsEqualTo(0);
    }

    [Test]
    public async Task Transparent_answers_carry_x_cache_and_age_and_head_has_its_own_entry()
    {
        var name = CacheEnvironment.Unique("transp");
        var url = env.Upstream.Url($"/cacheable/{name}?cc=max-age=60&size=5000");
        var json = $"{{\"url\":\"{url}\"}}";
        using var miss = await env.Sidecar.Client.PostAsync("/api/v1/curl/request", Api.Json(json));
        await Assert.That(miss.Headers.GetValues("X-Cache").Single()).IsEqualTo("MISS");
        var missBody = await miss.Content.ReadAsByteArrayAsync();
        using var hit = await env.Sidecar.Client.PostAsync("/api/v1/curl/request", Api.Json(json));
        await Assert.That(hit.Headers.GetValues("X-Cache").Single()).IsEqualTo("HIT");
        await Assert.That(hit.Headers.Age).IsNotNull();
        await Assert.That(hit.Content.Headers.ContentLength).IsEqualTo(5000);
        await Assert.That(await hit.Content.ReadAsByteArrayAsync()).IsEquivalentTo(missBody);
        // The GET bridge answers from the same entry.
        var (_, bridged) = await env.Sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(url)}");
        await Assert.That(CacheEnvironment.CacheOf(bridged)).IsEqualTo("hit");
        await Assert.That(env.Upstream.CacheableHits(name)).IsEqualTo(1);
    }

    [Test]
    public async Task Admin_routes_report_stats_and_purge_one_url_or_all()
    {
        var name = CacheEnvironment.Unique("admin");
        var url = env.Upstream.Url($"/cacheable/{name}?cc=max-age=60");
        await CacheEnvironment.RequestAsync(env.Sidecar, url);
        var (status, stats) = await env.Sidecar.Client.GetJsonAsync("/api/v1/curl/cache");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(stats.GetProperty("enabled").GetBoolean()).IsTrue();
        await Assert.That(stats.GetProperty("mode").GetString()).IsEqualTo("readwrite");
        await Assert.That(stats.GetProperty("entries").GetInt64()).IsGreaterThanOrEqualTo(1);
        await Assert.That(stats.GetProperty("bytes").GetInt64()).IsGreaterThan(0);
        using var bad = await env.Sidecar.Client.DeleteAsync("/api/v1/curl/cache?url=not-a-url");
        await Assert.That((int)bad.StatusCode).IsEqualTo(400);
        using var purge = await env.Sidecar.Client.DeleteAsync($"/api/v1/curl/cache?url={Api.Q(url)}");
        var purged = await Api.ReadJsonAsync(purge);
        await Assert.That(purged.GetProperty("deleted").GetInt32()).IsEqualTo(1);
        var (_, after) = await CacheEnvironment.RequestAsync(env.Sidecar, url);
        await Assert.That(CacheEnvironment.CacheOf(after)).IsEqualTo("miss");
        await Assert.That(env.Upstream.CacheableHits(name)).IsEqualTo(2);
        await Assert.That(await CacheEnvironment.MetricAsync(env.Sidecar, "hoody_curl_cache_enabled")).IsEqualTo(1);
    }
}
