// /health and /api/v1/curl/health: the platform's 9-field health object (docs/api.md (Health and metrics)) plus
// readiness facts: `ready` is true only once libcurl is initialised, the database opened and the job
// workers and scheduler started (and until shutdown begins); `?ready=1` then answers 503 while not ready.
// Cheap: no I/O beyond /proc.
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Kernel.Time;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.Host;

internal static class HealthEndpoints
{
    private static readonly string? Built = BuildTime();

    public static void Map(IEndpointRouteBuilder app, IServiceProvider services)
    {
        var settings = services.GetService(typeof(HostSettings)) as HostSettings;
        var start = (StartFacts)services.GetService(typeof(StartFacts))!;
        var pid = Environment.ProcessId;
        RequestDelegate handler = async context =>
        {
            var ready = start.Ready.IsReady;
            var body = JsonSerializer.SerializeToUtf8Bytes(new HealthView(
                "ok", "hoody-curl", Built, Rfc3339.Format(start.StartedAt),
                new MemoryView(ProcessFacts.ResidentBytes() ?? 0, GC.GetTotalMemory(false)), ProcessFacts.OpenFileDescriptors(), pid,
                settings?.Listen.Address.ToString() ?? "127.0.0.1", null, HoodyCurl.Requests.RequestsOptions.Version, ready,
                (long)(DateTimeOffset.UtcNow - start.StartedAt).TotalSeconds), HostJsonContext.Default.HealthView);
            // A readiness probe (?ready=1) gets 503 until the sidecar can serve, and again once it stops.
            if (!ready && context.Request.Query["ready"] is { Count: > 0 } probe && probe[0] is "1" or "true")
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        };
        app.MapGet("/health", handler);
        app.MapGet("/api/v1/curl/health", handler);
    }

    private static string? BuildTime()
    {
        try
        {
            return Environment.ProcessPath is { } path ? Rfc3339.Format(File.GetLastWriteTimeUtc(path)) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>The health object: the platform's fields (userAgent keeps its camelCase name) plus readiness and uptime.</summary>
internal sealed record HealthView(
    string Status,
    string Service,
    string? Built,
    string Started,
    MemoryView Memory,
    long? Fds,
    int Pid,
    string Ip,
    [property: JsonPropertyName("userAgent")] string? UserAgent,
    string Version,
    bool Ready,
    long UptimeSecs);

internal sealed record MemoryView(long Rss, long Heap);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HealthView))]
internal sealed partial class HostJsonContext : JsonSerializerContext;
