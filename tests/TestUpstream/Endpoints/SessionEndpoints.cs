using System.Collections.Concurrent;
using System.Security.Cryptography;
using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// /login?user=U issues a random session cookie and /private accepts only a cookie this server
/// issued: the round trip a cookie-jar (session) feature must make work.
/// </summary>
internal sealed class SessionEndpoints
{
    private readonly ConcurrentDictionary<string, string> _userByToken = new(StringComparer.Ordinal);

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/login", LoginAsync);
        routes.Map("/private", PrivateAsync);
    }

    private Task LoginAsync(HttpContext context)
    {
        string user = context.Request.Query["user"].ToString();
        if (user.Length == 0)
        {
            return RouteValue.BadRequestAsync(context, "user is required");
        }
        string token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _userByToken[token] = user;
        context.Response.Headers.Append("Set-Cookie", $"session={token}; Path=/; HttpOnly");
        return JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("logged_in", true);
            w.WriteString("user", user);
            w.WriteEndObject();
        });
    }

    private Task PrivateAsync(HttpContext context)
    {
        string? user = CookieEndpoints.RequestCookies(context.Request).TryGetValue("session", out string? token)
            && _userByToken.TryGetValue(token, out string? owner) ? owner : null;
        return JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            if (user is null)
            {
                w.WriteString("error", "no valid session cookie");
            }
            else
            {
                w.WriteString("user", user);
            }
            w.WriteEndObject();
        }, user is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status200OK);
    }
}
