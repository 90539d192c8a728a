using System.Globalization;
using System.Text;
using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// Bodies that arrive over time: /slow (for speed limits and timeouts), /drip (lines) and /sse
/// (server-sent events). Each piece is flushed on its own and every wait ends when the client leaves.
/// </summary>
public static class PacedEndpoints
{
    internal static void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/slow/{n}", SlowAsync);
        routes.Map("/drip", DripAsync);
        routes.Map("/sse", SseAsync);
    }

    // n bytes of 'a'..'z' repeated, `chunk` bytes every `interval_ms`, with a Content-Length.
    private static async Task SlowAsync(HttpContext context)
    {
        if (!RouteValue.TryLong(context, "n", out long total))
        {
            await RouteValue.BadRequestAsync(context, "n must be a non-negative byte count");
            return;
        }
        int chunk = Math.Max(1, QueryPairs.IntOrDefault(context.Request, "chunk", 1));
        int interval = Math.Max(0, QueryPairs.IntOrDefault(context.Request, "interval_ms", 100));
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = total;
        await context.Response.StartAsync(context.RequestAborted);
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        byte[] buffer = new byte[(int)Math.Min(chunk, Math.Max(total, 1))];
        for (long done = 0; done < total;)
        {
            if (done > 0)
            {
                await Task.Delay(interval, context.RequestAborted);
            }
            int n = (int)Math.Min(buffer.Length, total - done);
            for (int i = 0; i < n; i++)
            {
                buffer[i] = (byte)('a' + (done + i) % 26);
            }
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, n), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            done += n;
        }
    }

    // Lines "line 1\n" .. "line K\n", the first at once and then one every `ms`.
    private static async Task DripAsync(HttpContext context)
    {
        int interval = Math.Max(0, QueryPairs.IntOrDefault(context.Request, "ms", 100));
        int count = Math.Max(0, QueryPairs.IntOrDefault(context.Request, "count", 10));
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.StartAsync(context.RequestAborted);
        for (int i = 1; i <= count; i++)
        {
            if (i > 1)
            {
                await Task.Delay(interval, context.RequestAborted);
            }
            await WriteTextAsync(context, string.Create(CultureInfo.InvariantCulture, $"line {i}\n"));
        }
    }

    // Events with ids 1..K; a reconnect with Last-Event-ID continues after that id.
    //   die_after=N    drop the connection (no clean end) right after event N
    //   unterminated=1 the last event ends with its data line but without the blank line
    //   status=S       answer S instead of 200 (still text/event-stream)
    private static async Task SseAsync(HttpContext context)
    {
        int count = Math.Max(0, QueryPairs.IntOrDefault(context.Request, "count", 5));
        int interval = Math.Max(0, QueryPairs.IntOrDefault(context.Request, "interval_ms", 100));
        int dieAfter = QueryPairs.IntOrDefault(context.Request, "die_after", -1);
        bool unterminated = QueryPairs.IntOrDefault(context.Request, "unterminated", 0) == 1;
        int first = int.TryParse(context.Request.Headers["Last-Event-ID"], out int lastSeen) ? lastSeen + 1 : 1;
        context.Response.StatusCode = QueryPairs.IntOrDefault(context.Request, "status", 200);
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(context.RequestAborted);
        for (int i = first; i <= count; i++)
        {
            if (i > first)
            {
                await Task.Delay(interval, context.RequestAborted);
            }
            string end = unterminated && i == count ? "\n" : "\n\n";
            await WriteTextAsync(context, string.Create(CultureInfo.InvariantCulture, $"id: {i}\nevent: tick\ndata: {{\"i\":{i}}}{end}"));
            if (i == dieAfter)
            {
                await Task.Delay(100, context.RequestAborted); // let the flushed bytes leave before the reset
                context.Abort();
                return;
            }
        }
    }

    /// <summary>The exact bytes /sse sends for these parameters (without Last-Event-ID), for byte-identity checks.</summary>
    public static string SseBody(int count, int dieAfter = -1, bool unterminated = false)
    {
        var text = new StringBuilder();
        for (int i = 1; i <= count; i++)
        {
            string end = unterminated && i == count ? "\n" : "\n\n";
            text.Append(CultureInfo.InvariantCulture, $"id: {i}\nevent: tick\ndata: {{\"i\":{i}}}{end}");
            if (i == dieAfter) break;
        }
        return text.ToString();
    }

    private static async Task WriteTextAsync(HttpContext context, string text)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
