// The contract's error answer: a handler may have copied upstream headers onto the response before it
// failed; the error answer keeps only the sidecar's own (X-Request-Id, Allow) and never an upstream's
// Cache-Control or Set-Cookie, so a cache in front cannot store the error under the upstream's terms.
using System.Text;
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Kernel.Tests.Errors;

public class ApiErrorTests
{
    [Test]
    public async Task Error_answer_drops_headers_copied_from_an_upstream()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        context.Response.Headers["X-Request-Id"] = "req-1";
        context.Response.Headers["Allow"] = "GET, HEAD";
        context.Response.Headers["Cache-Control"] = "max-age=100000";
        context.Response.Headers.Append("Set-Cookie", "a=b");
        context.Response.Headers["ETag"] = "\"x\"";

        await new ApiError(502, ErrorCodes.UpstreamError, "boom") { RetryAfterSeconds = 3 }.WriteAsync(context);

        var names = context.Response.Headers.Keys.Select(k => k.ToLowerInvariant()).Order().ToArray();
        await Assert.That(string.Join(",", names)).IsEqualTo("allow,content-length,content-type,retry-after,x-request-id");
        await Assert.That(context.Response.StatusCode).IsEqualTo(502);
        await Assert.That(context.Response.Headers["X-Request-Id"].ToString()).IsEqualTo("req-1");
        var body = Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());
        await Assert.That(body).IsEqualTo("{\"error\":\"UPSTREAM_ERROR\",\"code\":\"UPSTREAM_ERROR\",\"message\":\"boom\"}");
    }
}
