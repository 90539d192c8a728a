using System.Text;
using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>/status/{code} and /delay/{ms}: chosen status codes and chosen latency.</summary>
internal static class StatusEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/status/{code}", StatusAsync);
        routes.Map("/delay/{ms}", DelayAsync);
    }

    private static Task StatusAsync(HttpContext context)
    {
        if (!int.TryParse(RouteValue.String(context, "code"), out int code) || code is < 200 or > 599)
        {
            return RouteValue.BadRequestAsync(context, "status code must be 200..599");
        }
        // Kestrel refuses a body for these (RFC 9110 15.3.5, 15.3.6, 15.4.5).
        if (code is 204 or 205 or 304)
        {
            context.Response.StatusCode = code;
            return Task.CompletedTask;
        }
        return Respond.BytesAsync(context, Encoding.ASCII.GetBytes($"status {code}"), "text/plain", code);
    }

    private static async Task DelayAsync(HttpContext context)
    {
        if (!RouteValue.TryLong(context, "ms", out long ms))
        {
            await RouteValue.BadRequestAsync(context, "delay must be a non-negative number of milliseconds");
            return;
        }
        await Task.Delay(TimeSpan.FromMilliseconds(ms), context.RequestAborted);
        await JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("delayed_ms", ms);
            w.WriteEndObject();
        });
    }
}
