using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using HoodyCurl.TestUpstream.Http;
using HoodyCurl.TestUpstream.RawHeaders;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>/echo and /anything: everything the upstream received, so tests can assert what a client sent.</summary>
internal static class EchoEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/echo", EchoAsync);
        routes.Map("/anything", EchoAsync);
        routes.Map("/anything/{**rest}", EchoAsync);
    }

    private static async Task EchoAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        EchoBody body = await EchoBody.ReadAsync(request, context.RequestAborted);
        await JsonResponse.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("method", request.Method);
            w.WriteString("path", request.Path.Value);
            w.WriteString("target", context.Features.Get<IHttpRequestFeature>()?.RawTarget);
            w.WriteString("protocol", request.Protocol);
            w.WriteStringMap("query", request.Query.Select(q => KeyValuePair.Create(q.Key, string.Join(", ", q.Value.ToArray()))));
            w.WriteStringMap("headers", HeaderSnapshot.Lowercased(request.Headers));
            WriteRawHeaders(w, context);
            WriteBody(w, request, body);
            w.WriteEndObject();
        });
    }

    // In arrival order and original case when the wire view is available, else Kestrel's view.
    private static void WriteRawHeaders(Utf8JsonWriter w, HttpContext context)
    {
        IEnumerable<KeyValuePair<string, string>> fields = context.Features.Get<RawRequestHead>()?.Headers
            ?? context.Request.Headers.SelectMany(h => h.Value.Select(v => KeyValuePair.Create(h.Key, v ?? "")));
        w.WriteStartArray("raw_headers");
        foreach (var (name, value) in fields)
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("value", value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteBody(Utf8JsonWriter w, HttpRequest request, EchoBody body)
    {
        byte[]? bytes = body.Bytes;
        if (bytes is not null && Utf8.IsValid(bytes))
        {
            w.WriteString("body", Encoding.UTF8.GetString(bytes));
        }
        else
        {
            w.WriteNull("body");
        }
        if (bytes is not null)
        {
            w.WriteBase64String("body_base64", bytes);
        }
        else
        {
            w.WriteNull("body_base64");
        }
        w.WriteBoolean("body_inlined", bytes is not null);
        w.WriteString("body_sha256", body.Sha256Hex);
        w.WriteNumber("body_length", body.Length);

        w.WritePropertyName("json");
        if (bytes is not null && IsJson(request.ContentType) && TryParseJson(bytes) is { } json)
        {
            json.WriteTo(w);
        }
        else
        {
            w.WriteNullValue();
        }

        w.WriteStringMap("form", body.Form);
        w.WriteStartObject("files");
        foreach (var (field, file) in body.Files)
        {
            w.WriteStartObject(field);
            w.WriteString("filename", file.FileName);
            w.WriteString("content_type", file.ContentType);
            w.WriteNumber("length", file.Length);
            w.WriteString("sha256", file.Sha256Hex);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
        && (mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true);

    private static JsonElement? TryParseJson(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
