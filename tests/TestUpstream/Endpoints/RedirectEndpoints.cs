using System.Globalization;
using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>/redirect/{n} (a chain of n relative 302s) and /redirect-to (one redirect anywhere, any 3xx).</summary>
internal static class RedirectEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/redirect/{n}", ChainAsync);
        routes.Map("/redirect-to", RedirectToAsync);
    }

    private static Task ChainAsync(HttpContext context)
    {
        if (!RouteValue.TryLong(context, "n", out long remaining))
        {
            return RouteValue.BadRequestAsync(context, "n must be a non-negative count");
        }
        if (remaining > 0)
        {
            return RedirectAsync(context, StatusCodes.Status302Found, string.Create(CultureInfo.InvariantCulture, $"/redirect/{remaining - 1}"));
        }
        return JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("redirected", true);
            w.WriteString("method", context.Request.Method);
            w.WriteEndObject();
        });
    }

    // The Location is sent verbatim: tests use it for other hosts and for file:// or gopher:// targets
    // a client must refuse.
    private static Task RedirectToAsync(HttpContext context)
    {
        string? location = context.Request.Query["url"];
        if (string.IsNullOrEmpty(location))
        {
            return RouteValue.BadRequestAsync(context, "url is required");
        }
        int status = QueryPairs.IntOrDefault(context.Request, "status_code", StatusCodes.Status302Found);
        if (status is < 300 or > 399)
        {
            return RouteValue.BadRequestAsync(context, "status_code must be 3xx");
        }
        return RedirectAsync(context, status, location);
    }

    private static Task RedirectAsync(HttpContext context, int status, string location)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = location;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }
}
