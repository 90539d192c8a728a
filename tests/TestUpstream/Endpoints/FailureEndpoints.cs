using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>/close-early: a response that promises more bytes than it sends, then drops the connection.</summary>
internal static class FailureEndpoints
{
    // Long enough for the flushed bytes to leave the socket before the abort discards pending output.
    private static readonly TimeSpan LetBytesDrain = TimeSpan.FromMilliseconds(100);

    public static void Map(IEndpointRouteBuilder routes) => routes.Map("/close-early", CloseEarlyAsync);

    private static async Task CloseEarlyAsync(HttpContext context)
    {
        long sent = Math.Max(0, QueryPairs.IntOrDefault(context.Request, "bytes", 1024));
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = sent * 2;
        await context.Response.StartAsync(context.RequestAborted);
        await PayloadWriter.WriteAsync(context, 0, sent, Payload.DefaultSeed, PayloadWriter.DefaultChunk);
        await Task.Delay(LetBytesDrain, context.RequestAborted);
        context.Abort();
    }
}
