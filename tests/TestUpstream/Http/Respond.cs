using Microsoft.AspNetCore.Http;

namespace HoodyCurl.TestUpstream.Http;

/// <summary>Small fixed bodies with a Content-Length; HEAD gets the same headers and no body.</summary>
internal static class Respond
{
    public static async Task BytesAsync(HttpContext context, ReadOnlyMemory<byte> body, string contentType, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }
}
