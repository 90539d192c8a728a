// Builds and runs the web host: Kestrel on --listen, every module's services and endpoints, health,
// metrics, the contract's error shape for anything unhandled, and graceful shutdown.
using System.CommandLine;
using System.Net;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace HoodyCurl.Host;

internal static class Server
{
    public static async Task<int> RunAsync(ParseResult flags, IModule[] modules)
    {
        var settings = HostSettings.FromFlags(flags);
        var maxBuffered = HoodyCurl.Kernel.Memory.BufferBudget.FromFlags(flags);
        var startedAt = DateTimeOffset.UtcNow;

        // Order matters (issue 15): every module's flags first (exit 2 on a bad value, whatever else is
        // wrong; the services registered into this scratch collection are thrown away); the socket next,
        // so a port clash fails before anything touches the disk and port 0 is known before the modules
        // build their options for real; then the storage dir's lock, so a second instance never opens
        // the database another one owns; libcurl last (loaded in the background once the lock is held).
        var scratch = new ServiceCollection();
        foreach (var module in modules) module.AddServices(scratch, flags);
        using var listenSocket = ListenSocket.Bind(settings.Listen);
        HostSettings.BoundListen = (IPEndPoint)listenSocket.LocalEndPoint!;
        settings = settings with { Listen = HostSettings.BoundListen };

        // The empty builder: no configuration sources at all (the sidecar is configured by flags only, so neither
        // appsettings.json, an inotify watch on it, nor ASPNETCORE_/DOTNET_ variables can change what the flags say),
        // no default logging providers (ConfigureLogging adds the one in use), and only Kestrel's core and routing's.
        // Start -> first relayed 200 -2.3 and -2.5 ms against CreateSlimBuilder (medians of the paired differences over
        // 30 alternating fresh starts, twice; issue 13), executable 0.3 MB smaller.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        ConfigureLogging(builder.Logging, settings);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Relayed upstream header values are the Latin-1 text of their bytes: written back as Latin-1 they
            // pass byte-exact, obs-text (>= 0x80) included, instead of being refused as non-ASCII.
            kestrel.ResponseHeaderEncodingSelector = static _ => System.Text.Encoding.Latin1;
            kestrel.ListenHandle((ulong)listenSocket.Handle);
            kestrel.Limits.MaxRequestBodySize = null; // each handler enforces --max-request-body-bytes with a 413 in the contract's shape
            kestrel.Limits.MaxRequestLineSize = 1024 * 1024; // the GET bridge carries whole requests in its query
            kestrel.Limits.MaxRequestBufferSize = 2 * 1024 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 256 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30); // slow-loris guard
        });
        // Each connection's output pipe holds up to 1 MiB before a writer waits (Kestrel's default is 64 KiB): a relayed
        // body flushed in 256 KiB-1 MiB steps no longer stalls until the socket has drained it to 32 KiB. 100 MiB, 8
        // interleaved downloads x 2 batches: median 957/975 -> 1,091/1,203 MB/s (paired ratios 1.19/1.29), CPU per
        // download 0.105-0.115 -> 0.08-0.09 s, context switches per MiB ~7-11 -> ~4.5 (issue 13). /ws subscribers are
        // held back by their kernel send queue instead (JobWebSocketStream), so a stalled one still lags.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(o => o.MaxWriteBufferSize = 1024 * 1024);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(settings.ShutdownTimeoutSecs));

        var metrics = new MetricsRegistry();
        ProcessMetrics.Register(metrics, startedAt);
        ServerMemoryPools.RegisterMetrics(metrics);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(metrics);
        var start = new StartFacts(startedAt);
        builder.Services.AddSingleton(start);
        var sse = HoodyCurl.Kernel.Sse.SseSettings.FromFlags(flags);
        builder.Services.AddSingleton(sse);
        builder.Services.AddSingleton(new HoodyCurl.Kernel.Sse.SseCapacity(sse, metrics));
        builder.Services.AddSingleton(new HoodyCurl.Kernel.Memory.BufferBudget(maxBuffered, metrics));
        var firstTraffic = new FirstTraffic();
        builder.Services.AddSingleton(firstTraffic);
        builder.Services.AddHostedService<MemoryTrimmer>();
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, ServerMemoryPools>();
        foreach (var module in modules) module.AddServices(builder.Services, flags);

        using var storageLock = StorageLock.Acquire(settings.StorageDir);
        // libcurl's load (~6-7 ms of dynamic linking for it and its ~30 libraries) starts here, beside the database's
        // opening, which on a fresh storage dir waits on fdatasync: start -> first relayed 200 51.5 -> 49.6 ms, host
        // ready 32.5 -> 30.9 ms after Main (medians of 20 interleaved fresh starts, issue 13). Any failure from here on
        // waits for the load to settle before the process exits (Program.cs).
        StartTimerThread();
        HoodyCurl.Requests.Engine.CurlRuntime.Preload();
        ServerPaths.Register(settings.StorageDir, "<storage-dir>");
        builder.Services.AddSingleton(OpenDatabase(settings.StorageDir));
        start.Ready.DatabaseOpened();

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("HoodyCurl.Host");
        var pipeline = new RequestPipeline(log, firstTraffic);
        app.Use(pipeline.InvokeAsync);
        // /ws and the channel (Realtime); keep-alive is set per accepted socket. Only a request that can be a WebSocket
        // handshake (an Upgrade header, or HTTP/2's extended CONNECT) goes through the middleware, which otherwise gave
        // every request a handshake object and a feature to check (issue 13); without it IsWebSocketRequest is false.
        app.UseWhen(static c => c.Request.Headers.Upgrade.Count > 0 || HttpMethods.IsConnect(c.Request.Method), static ws => ws.UseWebSockets());

        var routes = app.MapGroup("");
        RequestPipeline.AnswerHeadWhereGet(routes);
        HealthEndpoints.Map(routes, app.Services);
        routes.MapGet("/metrics", (HttpContext context) =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return metrics.WriteAsync(context.Response.Body, context.RequestAborted);
        });
        foreach (var module in modules) module.MapEndpoints(routes);
        OpenApiEndpoint.Map(routes, app.Services.GetRequiredService<EndpointDataSource>(), HoodyCurl.Requests.RequestsOptions.Version);

        // Start the engine before accepting traffic, so the first request pays no set-up.
        app.Services.GetRequiredService<IRequestExecutor>();
        start.Ready.CurlInitialised();
        // ApplicationStarted fires once every hosted service (job workers, scheduler) has started.
        app.Lifetime.ApplicationStarted.Register(start.Ready.ServicesStarted);
        app.Lifetime.ApplicationStopping.Register(start.Ready.Stopping);
        using var signals = new ShutdownSignals(app.Lifetime, log, settings.ShutdownTimeoutSecs,
            () => pipeline.InFlight, () => (long)((metrics.Find("hoody_curl_jobs_running") as Gauge)?.WithLabels().Value ?? 0));
        try
        {
            await app.StartAsync(); // recovery, migrations and the scheduler run here
        }
        catch (Exception e) when (e is not (StartupException or OperationCanceledException))
        {
            throw new StartupException("start-up failed: " + e.Message, settings.StorageDir, e);
        }
        StartupSummary.Log(log, settings, app.Services);
        await app.WaitForShutdownAsync();
        Log.Stopped(log);
        return signals.Forced ? 1 : 0;
    }

    private static void ConfigureLogging(ILoggingBuilder logging, HostSettings settings)
    {
        logging.ClearProviders();
        if (settings.LogFormat == "json")
        {
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = BatchedConsoleLoggerProvider.TimestampFormat;
                o.UseUtcTimestamp = true;
                o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            // The timestamp is written by BatchedConsoleLoggerProvider (one formatting per millisecond, not per line).
            logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = null; o.UseUtcTimestamp = true; });
        }
        // The framework's formatters stay (registered above); its console provider is replaced by the batched writer.
        var formatter = settings.LogFormat == "json" ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple;
        // Only the formatter in use is built: AddConsole registers all three (simple, json, systemd), and building one
        // binds its options from configuration with change tracking. Start -> first relayed 200: median of the paired
        // differences over 20 interleaved fresh starts -0.95 ms (issue 13). An unknown type name removes nothing.
        var unused = settings.LogFormat == "json" ? "SimpleConsoleFormatter" : "JsonConsoleFormatter";
        var unusedFormatters = logging.Services.Where(d => d.ServiceType == typeof(ConsoleFormatter)
            && (d.ImplementationType?.Name == "SystemdConsoleFormatter" || d.ImplementationType?.Name == unused)).ToList();
        foreach (var d in unusedFormatters) logging.Services.Remove(d);
        logging.ClearProviders();
        logging.Services.AddSingleton<ILoggerProvider>(sp => new BatchedConsoleLoggerProvider(sp.GetServices<ConsoleFormatter>(), formatter,
            prefixTimestamp: settings.LogFormat != "json"));
        // --log-level governs every category. The framework's own chatter (one line per request, the
        // lifetime's banner) starts at warning; the sidecar writes its own start-up and stop lines.
        var level = ParseLevel(settings.LogLevel);
        logging.SetMinimumLevel(level);
        logging.AddFilter("Microsoft", level > LogLevel.Warning ? level : LogLevel.Warning);
        // The hosting layer's own request log (request starting/finished) is replaced by the sidecar's access line;
        // while its category was enabled at all, every request also got an Activity and a logging scope
        // (an AsyncLocal write): ~1.5% of the relay's CPU at 10,000 requests/s (perf, issue 13).
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
    }

    /// <summary>
    /// Creates the runtime's timer thread now, before libcurl's load starts. glibc's pthread_create waits for the dynamic
    /// loader's lock, which dlopen holds for the whole load (~6 ms with warm caches, 20+ ms when the libraries come from
    /// disk), and the database's first connection starts a timer (Microsoft.Data.Sqlite prunes its pool), the first in the
    /// process: its thread's creation kept the main thread waiting until libcurl was loaded, so a fresh storage dir's
    /// fsync waits came after the load instead of beside it (perf sched trace, issue 13).
    /// </summary>
    private static void StartTimerThread()
    {
        using var timer = new Timer(static _ => { }, null, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);
    }

    private static Database OpenDatabase(string storageDir)
    {
        try
        {
            return new Database(storageDir);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new StartupException("cannot open the database: " + e.Message, Path.Combine(storageDir, Database.FileName), e);
        }
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

internal sealed record StartFacts(DateTimeOffset StartedAt)
{
    /// <summary>Readiness (issue 12 §3): each fact is set by the host once that part is up.</summary>
    public Readiness Ready { get; } = new();
}

/// <summary>
/// What /health reports as `ready`: libcurl initialised (the engine built), the database opened, the
/// hosted services (job workers, scheduler, recovery) started, and shutdown not begun.
/// </summary>
internal sealed class Readiness
{
    private volatile bool _curl, _database, _started, _stopping;

    public void CurlInitialised() => _curl = true;
    public void DatabaseOpened() => _database = true;
    public void ServicesStarted() => _started = true;
    public void Stopping() => _stopping = true;

    public bool IsReady => _curl && _database && _started && !_stopping;
}
