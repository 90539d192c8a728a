using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// /cookies (what the client sent), /cookies/set and /cookies/delete (redirect back to /cookies,
/// like httpbin) and /cookies/set-raw (any Set-Cookie attributes a jar test needs).
/// </summary>
internal static class CookieEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/cookies", ListAsync);
        routes.Map("/cookies/set", SetAsync);
        routes.Map("/cookies/set-raw", SetRawAsync);
        routes.Map("/cookies/delete", DeleteAsync);
    }

    /// <summary>The Cookie request header as name/value pairs; a repeated name keeps its last value.</summary>
    public static Dictionary<string, string> RequestCookies(HttpRequest request)
    {
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string? header in request.Headers.Cookie)
        {
            foreach (string pair in (header ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    cookies[pair[..eq]] = pair[(eq + 1)..];
                }
            }
        }
        return cookies;
    }

    private static Task ListAsync(HttpContext context) =>
        JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStringMap("cookies", RequestCookies(context.Request));
            w.WriteEndObject();
        });

    private static Task SetAsync(HttpContext context)
    {
        foreach (var (name, value) in QueryPairs.Parse(context.Request))
        {
            context.Response.Headers.Append("Set-Cookie", $"{name}={value}; Path=/");
        }
        return RedirectToListAsync(context);
    }

    private static Task SetRawAsync(HttpContext context)
    {
        int count = 0;
        foreach (var (name, value) in QueryPairs.Parse(context.Request))
        {
            if (name == "header")
            {
                context.Response.Headers.Append("Set-Cookie", value);
                count++;
            }
        }
        return JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("set", count);
            w.WriteEndObject();
        });
    }

    private static Task DeleteAsync(HttpContext context)
    {
        foreach (var (name, _) in QueryPairs.Parse(context.Request))
        {
            context.Response.Headers.Append("Set-Cookie", $"{name}=; Max-Age=0; Path=/");
        }
        return RedirectToListAsync(context);
    }

    private static Task RedirectToListAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = "/cookies";
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }
}
