using System.Text;
using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// /basic-auth/{user}/{pass} and /bearer: the single-round-trip Authorization schemes. /bearer-sha256/{hex}
/// demands a bearer token whose SHA-256 is {hex} and never echoes it, so a test can prove a secret was
/// sent without the secret appearing in the URL or the answer.
/// </summary>
internal static class TokenAuthEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/basic-auth/{user}/{pass}", BasicAsync);
        routes.Map("/bearer", BearerAsync);
        routes.Map("/bearer-sha256/{hex}", BearerHashAsync);
    }

    private static Task BearerHashAsync(HttpContext context)
    {
        string expected = RouteValue.String(context, "hex");
        string authorization = context.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ||
            !string.Equals(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(authorization[Scheme.Length..]))),
                expected, StringComparison.OrdinalIgnoreCase))
        {
            return ChallengeAsync(context, "Bearer");
        }
        return JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("authenticated", true);
            w.WriteEndObject();
        });
    }

    private static Task BasicAsync(HttpContext context)
    {
        string user = RouteValue.String(context, "user");
        string pass = RouteValue.String(context, "pass");
        string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{pass}"));
        if (!string.Equals(context.Request.Headers.Authorization, expected, StringComparison.Ordinal))
        {
            return ChallengeAsync(context, "Basic realm=\"test\"");
        }
        return AuthenticatedAsync(context, "user", user);
    }

    private static Task BearerAsync(HttpContext context)
    {
        string authorization = context.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || authorization.Length == Scheme.Length)
        {
            return ChallengeAsync(context, "Bearer");
        }
        return AuthenticatedAsync(context, "token", authorization[Scheme.Length..].Trim());
    }

    public static Task AuthenticatedAsync(HttpContext context, string property, string value) =>
        JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("authenticated", true);
            w.WriteString(property, value);
            w.WriteEndObject();
        });

    public static Task ChallengeAsync(HttpContext context, string wwwAuthenticate)
    {
        context.Response.Headers.WWWAuthenticate = wwwAuthenticate;
        return JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("authenticated", false);
            w.WriteEndObject();
        }, StatusCodes.Status401Unauthorized);
    }
}
