using Microsoft.AspNetCore.Http;

namespace HoodyCurl.TestUpstream.Http;

/// <summary>Typed access to route parameters; the patterns carry no constraints so bad input gets a 400 we control.</summary>
internal static class RouteValue
{
    public static string String(HttpContext context, string name) =>
        context.Request.RouteValues[name]?.ToString() ?? "";

    public static bool TryLong(HttpContext context, string name, out long value) =>
        long.TryParse(String(context, name), out value) && value >= 0;

    public static Task BadRequestAsync(HttpContext context, string message) =>
        JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        }, StatusCodes.Status400BadRequest);
}
