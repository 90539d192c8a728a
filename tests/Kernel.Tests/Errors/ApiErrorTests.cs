// The error shape keeps its three fields, adds extra ones after them, and never shows a registered
// server folder as an absolute path (issue 15).
using System.Text.Json;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Errors;

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
}
