// GET /api/v1/curl/openapi.json: the OpenAPI 3.1 document of every route, generated at start from the
// routing table itself (path templates, methods, path parameters, summaries where a module gave one), so it
// cannot drift from what the server answers. Every operation's error answers share the contract's error
// shape. The prose reference lives in docs/api.md.
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace HoodyCurl.Host;

internal static class OpenApiEndpoint
{
    public const string Path = "/api/v1/curl/openapi.json";

    public static void Map(IEndpointRouteBuilder routes, EndpointDataSource endpoints, string version)
    {
        byte[]? document = null; // built on first use: every module's routes are mapped by then
        routes.MapGet(Path, async (HttpContext context) =>
        {
            document ??= Build(endpoints.Endpoints, version);
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = document.Length;
            await context.Response.Body.WriteAsync(document, context.RequestAborted);
        });
    }

    /// <summary>One (path, method) pair of the routing table, with its path parameters and summary.</summary>
    internal sealed record Operation(string Path, string Method, IReadOnlyList<string> PathParameters, string? Summary);

    /// <summary>The operations of <paramref name="endpoints"/>: route endpoints with explicit methods, HEAD folded into GET.</summary>
    internal static List<Operation> Operations(IReadOnlyList<Endpoint> endpoints)
    {
        var operations = new List<Operation>();
        var seen = new HashSet<(string, string)>();
        foreach (var endpoint in endpoints)
        {
            if (endpoint is not RouteEndpoint route || route.RoutePattern.RawText is not { } raw) continue;
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
            if (methods is null || methods.Count == 0) continue; // fallbacks: no operation of their own
            var path = Template(route.RoutePattern);
            var parameters = route.RoutePattern.Parameters.Select(p => p.Name).ToList();
            var summary = endpoint.Metadata.GetMetadata<IEndpointSummaryMetadata>()?.Summary;
            foreach (var method in methods)
            {
                if (method == HttpMethods.Head && methods.Contains(HttpMethods.Get)) continue; // HEAD works wherever GET does
                if (seen.Add((path, method))) operations.Add(new Operation(path, method, parameters, summary));
            }
        }
        operations.Sort((a, b) => string.CompareOrdinal(a.Path + " " + a.Method, b.Path + " " + b.Method));
        return operations;
    }

    /// <summary>The route template as an OpenAPI path: "{**token}" and "{id:guid}" become "{token}" and "{id}".</summary>
    private static string Template(RoutePattern pattern)
    {
        var parts = new List<string>();
        foreach (var segment in pattern.PathSegments)
        {
            var text = string.Concat(segment.Parts.Select(p => p switch
            {
                RoutePatternLiteralPart literal => literal.Content,
                RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
                RoutePatternSeparatorPart separator => separator.Content,
                _ => "",
            }));
            parts.Add(text);
        }
        return "/" + string.Join('/', parts);
    }

    private static byte[] Build(IReadOnlyList<Endpoint> endpoints, string version)
    {
        using var buffer = new MemoryStream(16 * 1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("openapi", "3.1.0");
            w.WriteStartObject("info");
            w.WriteString("title", "hoody-curl");
            w.WriteString("version", version);
            w.WriteString("description", "An HTTP sidecar that executes requests through libcurl. Reference: docs/api.md in the repository.");
            w.WriteEndObject();
            w.WriteStartObject("paths");
            foreach (var group in Operations(endpoints).GroupBy(o => o.Path))
            {
                w.WriteStartObject(group.Key);
                foreach (var operation in group)
                {
                    w.WriteStartObject(operation.Method.ToLowerInvariant());
                    w.WriteString("summary", operation.Summary ?? $"{operation.Method} {operation.Path}");
                    w.WriteString("operationId", OperationId(operation));
                    if (operation.PathParameters.Count > 0)
                    {
                        w.WriteStartArray("parameters");
                        foreach (var name in operation.PathParameters)
                        {
                            w.WriteStartObject();
                            w.WriteString("name", name);
                            w.WriteString("in", "path");
                            w.WriteBoolean("required", true);
                            w.WriteStartObject("schema");
                            w.WriteString("type", "string");
                            w.WriteEndObject();
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                    }
                    w.WriteStartObject("responses");
                    w.WriteStartObject("default");
                    w.WriteString("description", "The answer; errors use the contract's error shape.");
                    w.WriteStartObject("content");
                    w.WriteStartObject("application/json");
                    w.WriteStartObject("schema");
                    w.WriteStartArray("oneOf");
                    w.WriteStartObject();
                    w.WriteString("$ref", "#/components/schemas/Error");
                    w.WriteEndObject();
                    w.WriteStartObject();
                    w.WriteString("type", "object");
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("components");
            w.WriteStartObject("schemas");
            w.WriteStartObject("Error");
            w.WriteString("type", "object");
            w.WriteStartArray("required");
            foreach (var name in new[] { "error", "code", "message" }) w.WriteStringValue(name);
            w.WriteEndArray();
            w.WriteStartObject("properties");
            foreach (var name in new[] { "error", "code", "message" })
            {
                w.WriteStartObject(name);
                w.WriteString("type", "string");
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static string OperationId(Operation operation)
    {
        var words = operation.Path.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => new string(s.Where(char.IsLetterOrDigit).ToArray()))
            .Where(s => s.Length > 0);
        return operation.Method.ToLowerInvariant() + string.Concat(words.Select(s => char.ToUpperInvariant(s[0]) + s[1..]));
    }
}
