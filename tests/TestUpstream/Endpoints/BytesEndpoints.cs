using System.Globalization;
using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// /bytes/{n} (Content-Length, single Range) and /stream-bytes/{n} (chunked): deterministic payloads
/// of any size whose digest tests compute with <see cref="Payload.Sha256Hex"/>.
/// </summary>
internal static class BytesEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/bytes/{n}", BytesAsync);
        routes.Map("/stream-bytes/{n}", StreamBytesAsync);
    }

    private static Task BytesAsync(HttpContext context)
    {
        if (!RouteValue.TryLong(context, "n", out long total))
        {
            return RouteValue.BadRequestAsync(context, "n must be a non-negative byte count");
        }
        int seed = QueryPairs.IntOrDefault(context.Request, "seed", Payload.DefaultSeed);
        HttpResponse response = context.Response;
        response.ContentType = "application/octet-stream";
        response.Headers.AcceptRanges = "bytes";

        ByteRange range = ByteRange.Parse(context.Request.Headers.Range, total);
        switch (range.Outcome)
        {
            case ByteRange.Kind.Unsatisfiable:
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{total}");
                response.ContentLength = 0;
                return Task.CompletedTask;
            case ByteRange.Kind.Partial:
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {range.First}-{range.Last}/{total}");
                return SendAsync(context, range.First, range.Length, seed);
            default:
                return SendAsync(context, 0, total, seed);
        }
    }

    private static Task SendAsync(HttpContext context, long offset, long count, int seed)
    {
        context.Response.ContentLength = count;
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : PayloadWriter.WriteAsync(context, offset, count, seed, PayloadWriter.DefaultChunk);
    }

    private static async Task StreamBytesAsync(HttpContext context)
    {
        if (!RouteValue.TryLong(context, "n", out long total))
        {
            await RouteValue.BadRequestAsync(context, "n must be a non-negative byte count");
            return;
        }
        int seed = QueryPairs.IntOrDefault(context.Request, "seed", Payload.DefaultSeed);
        int chunk = QueryPairs.IntOrDefault(context.Request, "chunk", PayloadWriter.DefaultChunk);
        context.Response.ContentType = "application/octet-stream";
        // Sending the headers before the first byte makes Kestrel commit to chunked framing.
        await context.Response.StartAsync(context.RequestAborted);
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await PayloadWriter.WriteAsync(context, 0, total, seed, chunk);
        }
    }
}
