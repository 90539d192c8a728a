using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// /cacheable/{name}: a response whose caching headers the query chooses, counting its hits per name so
/// cache tests can tell a hit (no upstream request) from a miss. The body is "{name}#{hit number}" padded to
/// `size` bytes, so a stale copy is told apart from a fresh one.
/// Query: cc (Cache-Control), etag (304 when If-None-Match matches), lm=1 (Last-Modified 10 days ago; 304 on
/// If-Modified-Since), expires (seconds from now), vary, cookie=1 (Set-Cookie), ctype, size, delay_ms,
/// date_offset (seconds added to Date). Any other method than GET/HEAD is counted and answered 200 "changed".
/// </summary>
internal sealed class CacheableEndpoints
{
    private readonly ConcurrentDictionary<string, long> _hits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _conditional = new(StringComparer.Ordinal);

    public long Hits(string name) => _hits.GetValueOrDefault(name);

    /// <summary>Requests for the name that carried If-None-Match or If-Modified-Since.</summary>
    public long ConditionalHits(string name) => _conditional.GetValueOrDefault(name);

    public void Map(IEndpointRouteBuilder routes) => routes.Map("/cacheable/{name}", HandleAsync);

    private async Task HandleAsync(HttpContext context)
    {
        var name = (string)context.Request.RouteValues["name"]!;
        var hit = _hits.AddOrUpdate(name, 1, (_, n) => n + 1);
        var q = context.Request.Query;
        var response = context.Response;
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            await response.WriteAsync("changed");
            return;
        }
        if (int.TryParse(q["delay_ms"], out var delay)) await Task.Delay(delay, context.RequestAborted);
        var now = DateTimeOffset.UtcNow;
        var dateOffset = int.TryParse(q["date_offset"], out var off) ? off : 0;
        response.Headers.Date = now.AddSeconds(dateOffset).ToString("r", CultureInfo.InvariantCulture);
        if (q["cc"].ToString() is { Length: > 0 } cc) response.Headers.CacheControl = cc;
        if (q["vary"].ToString() is { Length: > 0 } vary) response.Headers.Vary = vary;
        if (q["expires"].ToString() is { Length: > 0 } expires)
            response.Headers.Expires = int.TryParse(expires, out var secs) ? now.AddSeconds(secs).ToString("r", CultureInfo.InvariantCulture) : expires;
        if (q["cookie"] == "1") response.Headers.SetCookie = "tracking=" + hit;
        response.Headers["X-Hit"] = hit.ToString(CultureInfo.InvariantCulture);
        var lastModified = now.AddDays(-10).ToString("r", CultureInfo.InvariantCulture);
        if (q["lm"] == "1") response.Headers.LastModified = lastModified;
        var etag = q["etag"].ToString();
        if (etag.Length > 0) response.Headers.ETag = etag;
        var inm = context.Request.Headers.IfNoneMatch.ToString();
        var ims = context.Request.Headers.IfModifiedSince.ToString();
        if (inm.Length > 0 || ims.Length > 0) _conditional.AddOrUpdate(name, 1, (_, n) => n + 1);
        if ((etag.Length > 0 && inm == etag) || (inm.Length == 0 && q["lm"] == "1" && ims.Length > 0))
        {
            response.StatusCode = 304;
            return;
        }
        response.ContentType = q["ctype"].ToString() is { Length: > 0 } ctype ? ctype : "text/plain";
        var text = $"{name}#{hit}";
        var size = int.TryParse(q["size"], out var s) ? s : text.Length;
        var body = new byte[Math.Max(size, text.Length)];
        Encoding.ASCII.GetBytes(text, body);
        for (var i = text.Length; i < body.Length; i++) body[i] = (byte)('a' + (i % 26));
        response.ContentLength = body.Length;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await response.Body.WriteAsync(body, context.RequestAborted);
    }
}
