// The error shape keeps its three fields, adds extra ones after them, and never shows a registered
// server folder as an absolute path (issue 15).
using System.Text;
using System.Text.Json;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Kernel.Tests.Errors;

public class ApiErrorTests
{
    [Test]
    public async Task Extra_fields_follow_the_message()
    {
        var error = new ApiError(404, "JOB_HAS_NO_RESULT", "no result") { Extra = [new("status", "failed")] };
        var text = System.Text.Encoding.UTF8.GetString(error.ToJsonBytes());
        await Assert.That(text).IsEqualTo("{\"error\":\"JOB_HAS_NO_RESULT\",\"code\":\"JOB_HAS_NO_RESULT\",\"message\":\"no result\",\"status\":\"failed\"}");
    }

    [Test]
    public async Task Registered_folders_are_shown_relative()
    {
        var root = Path.Combine(Path.GetTempPath(), "hoody-kernel-" + Guid.NewGuid().ToString("N"), "data");
        ServerPaths.Register(root, "<storage-dir>");
        ServerPaths.Register(root + "/downloads", "<downloads>");
        var error = ApiError.Internal($"cannot write '{root}/jobs/x/body' or '{root}/downloads/a'");
        using var document = JsonDocument.Parse(error.ToJsonBytes());
        var message = document.RootElement.GetProperty("message").GetString()!;
        await Assert.That(message).IsEqualTo("cannot write '<storage-dir>/jobs/x/body' or '<downloads>/a'");
        await Assert.That(ServerPaths.Redact("/elsewhere/file")).IsEqualTo("/elsewhere/file");
    }

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
