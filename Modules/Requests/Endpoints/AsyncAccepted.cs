using HoodyCurl.Kernel.Http;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Requests.Endpoints;

/// <summary>The 202 answer to mode=async: {"job_id": "...", "status": "pending"}.</summary>
internal static class AsyncAccepted
{
    public static Task WriteAsync(HttpContext context, string jobId) =>
        JsonResponse.WriteAsync(context, StatusCodes.Status202Accepted, w =>
        {
            w.WriteStartObject();
            w.WriteString("job_id", jobId);
            w.WriteString("status", "pending");
            w.WriteEndObject();
        });
}
