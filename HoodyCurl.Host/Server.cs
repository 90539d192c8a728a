// Builds and runs the web host: Kestrel on --listen, every module's services and endpoints, health,
// metrics, the contract's error shape for anything unhandled, and graceful shutdown.
using System.CommandLine;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Host;

internal static class Server
{
    public static async Task<int> RunAsync(ParseResult flags, IModule[] modules)
    {
        var settings = HostSettings.FromFlags(flags);
        // 0700 like every folder inside it: the database and bodies hold secrets (decisions D9).
        HoodyCurl.Kernel.Db.DurableFile.CreateDirectory(settings.StorageDir);
        var startedAt = DateTimeOffset.UtcNow;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // No configuration files are read (flags only), so nothing needs an inotify watch on disk.
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
        builder.Logging.SetMinimumLevel(ParseLevel(settings.LogLevel));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(settings.Listen);
            kestrel.Limits.MaxRequestBodySize = null; // each handler enforces --max-request-body-bytes with a 413 in the contract's shape
            kestrel.Limits.MaxRequestLineSize = 1024 * 1024; // the GET bridge carries whole requests in its query
            kestrel.Limits.MaxRequestBufferSize = 2 * 1024 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 256 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30); // slow-loris guard
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(settings.ShutdownTimeoutSecs));

        var metrics = new MetricsRegistry();
        ProcessMetrics.Register(metrics, startedAt);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(new HoodyCurl.Kernel.Db.Database(settings.StorageDir));
        builder.Services.AddSingleton(new StartFacts(startedAt));
        builder.Services.AddHostedService<MemoryTrimmer>();
        foreach (var module in modules) module.AddServices(builder.Services, flags);

        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (ApiErrorException e)
            {
                await e.Error.WriteAsync(context);
            }
            catch (BadHttpRequestException e)
            {
                // Kestrel's own verdicts on the request (slow or truncated body, bad framing): the
                // client's fault, answered in the contract's shape and never logged as a failure.
                var code = e.StatusCode == StatusCodes.Status408RequestTimeout ? ErrorCodes.Timeout : ErrorCodes.Validation;
                await new ApiError(e.StatusCode, code, "bad request: " + e.Message).WriteAsync(context);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                app.Logger.LogError(e, "unhandled error on {Path}", context.Request.Path.Value);
                await ApiError.Internal("internal error").WriteAsync(context);
            }
        });
        HealthEndpoints.Map(app);
        app.MapGet("/metrics", (HttpContext context) =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return context.Response.WriteAsync(metrics.Render(), context.RequestAborted);
        });
        foreach (var module in modules) module.MapEndpoints(app);
        app.MapFallback((HttpContext context) =>
            new ApiError(404, ErrorCodes.NotFound, $"no route for {context.Request.Method} {context.Request.Path}").WriteAsync(context));

        // Start the engine before accepting traffic, so the first request pays no set-up.
        app.Services.GetRequiredService<IRequestExecutor>();
        await app.RunAsync();
        return 0;
    }

    private static LogLevel ParseLevel(string level) => level switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "none" => LogLevel.None,
        _ => LogLevel.Information,
    };
}

internal sealed record StartFacts(DateTimeOffset StartedAt);
