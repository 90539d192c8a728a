using System.Globalization;
using System.Text.Json;
using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// Header-centred endpoints: /headers and /user-agent report request headers; /response-headers and
/// /large-headers send chosen or oversized response headers.
/// </summary>
internal static class HeaderEndpoints
{
    // Framing headers would make the response unparseable rather than test anything.
    private static readonly HashSet<string> FramingHeaders = new(StringComparer.OrdinalIgnoreCase) { "Content-Length", "Transfer-Encoding" };

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/headers", context => JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStringMap("headers", HeaderSnapshot.Lowercased(context.Request.Headers));
            w.WriteEndObject();
        }));
        routes.Map("/user-agent", context => JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("user-agent", context.Request.Headers.UserAgent.ToString());
            w.WriteEndObject();
        }));
        routes.Map("/response-headers", ResponseHeadersAsync);
        routes.Map("/large-headers", LargeHeadersAsync);
    }

    // Each query pair becomes a response header, in order; a repeated name gives repeated header lines.
    private static Task ResponseHeadersAsync(HttpContext context)
    {
        var pairs = QueryPairs.Parse(context.Request).Where(p => !FramingHeaders.Contains(p.Key)).ToList();
        string contentType = "application/json";
        foreach (var (name, value) in pairs)
        {
            if (name.Equals(HeaderNames.ContentType, StringComparison.OrdinalIgnoreCase))
            {
                contentType = value;
                continue;
            }
            context.Response.Headers.Append(name, value);
        }
        byte[] body = JsonResponse.Serialize(w =>
        {
            w.WriteStartObject();
            foreach (var group in pairs.GroupBy(p => p.Key, StringComparer.Ordinal))
            {
                WriteOneOrMany(w, group.Key, group.Select(p => p.Value).ToList());
            }
            w.WriteEndObject();
        });
        return Respond.BytesAsync(context, body, contentType);
    }

    private static void WriteOneOrMany(Utf8JsonWriter w, string name, List<string> values)
    {
        if (values.Count == 1)
        {
            w.WriteString(name, values[0]);
            return;
        }
        w.WriteStartArray(name);
        values.ForEach(w.WriteStringValue);
        w.WriteEndArray();
    }

    // n headers X-Big-1..X-Big-n, each value `size` bytes long.
    private static Task LargeHeadersAsync(HttpContext context)
    {
        int count = Math.Max(0, QueryPairs.IntOrDefault(context.Request, "n", 1));
        int size = Math.Max(0, QueryPairs.IntOrDefault(context.Request, "size", 1024));
        string value = new('x', size);
        for (int i = 1; i <= count; i++)
        {
            context.Response.Headers[string.Create(CultureInfo.InvariantCulture, $"X-Big-{i}")] = value;
        }
        return JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("n", count);
            w.WriteNumber("size", size);
            w.WriteEndObject();
        });
    }
}
