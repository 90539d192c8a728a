// /health and /api/v1/curl/health: the platform's 9-field health object (docs/api.md (Health and metrics)) plus
// readiness facts: `ready` is true only once libcurl is initialised, the database opened and the job
// workers and scheduler started (and until shutdown begins); `?ready=1` then answers 503 while not ready.
// Cheap: no I/O beyond /proc.
using System.Diagnostics;
using System.Text.Json;
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
            using var buffer = new MemoryStream(512);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("status", "ok");
                w.WriteString("service", "hoody-curl");
                if (Built is null) w.WriteNull("built"); else w.WriteString("built", Built);
                w.WriteString("started", Rfc3339.Format(start.StartedAt));
                w.WriteStartObject("memory");
                w.WriteNumber("rss", ProcessFacts.ResidentBytes() ?? 0);
                w.WriteNumber("heap", GC.GetTotalMemory(false));
                w.WriteEndObject();
                if (ProcessFacts.OpenFileDescriptors() is { } fds) w.WriteNumber("fds", fds); else w.WriteNull("fds");
                w.WriteNumber("pid", pid);
                w.WriteString("ip", settings?.Listen.Address.ToString() ?? "127.0.0.1");
                w.WriteNull("userAgent");
                w.WriteString("version", HoodyCurl.Requests.RequestsOptions.Version);
                w.WriteBoolean("ready", ready);
                w.WriteNumber("uptime_secs", (long)(DateTimeOffset.UtcNow - start.StartedAt).TotalSeconds);
                w.WriteEndObject();
            }
            // A readiness probe (?ready=1) gets 503 until the sidecar can serve, and again once it stops.
            if (!ready && context.Request.Query["ready"] is { Count: > 0 } probe && probe[0] is "1" or "true")
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = buffer.Length;
            await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
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
