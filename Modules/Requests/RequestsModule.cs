// The engine module: flags, services (executor, SSRF guard, metrics) and the /request endpoints.
using System.CommandLine;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests.Endpoints;
using HoodyCurl.Requests.Engine;
using HoodyCurl.Requests.Security;
using HoodyCurl.Requests.Validation;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Requests;

public sealed class RequestsModule : IModule
{
    private Option<int> _threads = null!, _perOrigin = null!, _global = null!, _connections = null!, _busy = null!, _defaultTimeout = null!, _asyncTimeout = null!,
        _maxTimeout = null!, _syncWait = null!, _maxSync = null!, _urlLength = null!, _headerCount = null!, _headerBytes = null!, _jsonDepth = null!;
    private Option<long> _maxBody = null!, _maxBuffer = null!, _responseHeaderBytes = null!;
    private Option<int> _responseHeaderCount = null!;
    private Option<string[]> _allow = null!, _deny = null!, _resolve = null!, _redirectStrip = null!;
    private Option<bool> _allowPrivate = null!;
    private Option<string?> _upstreamProxy = null!;

    public void AddFlags(Command command)
    {
        var d = new RequestsOptions();
        _threads = FlagReader.Define(command, "--transfer-threads", "Transfer threads, each driving one curl_multi; 0 means one per core", 0);
        _perOrigin = FlagReader.Define(command, "--pool-per-origin", "Idle libcurl handles kept per origin", d.PoolPerOrigin);
        _global = FlagReader.Define(command, "--pool-global", "Idle libcurl handles kept in all", d.PoolGlobal);
        _connections = FlagReader.Define(command, "--pool-connections", "Upstream connections each transfer thread keeps open for reuse (grows with the transfers running at once)", d.PoolConnections);
        _busy = FlagReader.Define(command, "--max-busy-transfers", "While the process is CPU-saturated, young transfers each transfer thread runs at once; more wait in its queue, in order (0 = no limit)", d.MaxBusyTransfers);
        _maxBody = FlagReader.Define(command, "--max-request-body-bytes", "Largest accepted request body, in bytes (413 beyond)", d.MaxRequestBodyBytes);
        _maxBuffer = FlagReader.Define(command, "--max-response-buffer-bytes", "Largest upstream body buffered for response=json, in bytes (502 RESPONSE_TOO_LARGE beyond)", d.MaxResponseBufferBytes);
        _responseHeaderCount = FlagReader.Define(command, "--max-response-header-count", "Most header lines one upstream response may send (502 UPSTREAM_HEADERS_TOO_LARGE beyond)", d.MaxResponseHeaderCount);
        _responseHeaderBytes = FlagReader.Define(command, "--max-response-header-bytes", "Most bytes of headers one upstream response may send (502 UPSTREAM_HEADERS_TOO_LARGE beyond)", d.MaxResponseHeaderBytes);
        _defaultTimeout = FlagReader.Define(command, "--default-timeout-secs", "Transfer timeout of a sync request without 'timeout'", d.DefaultTimeoutSecs);
        _asyncTimeout = FlagReader.Define(command, "--default-async-timeout-secs", "Transfer timeout of an async job without 'timeout'", d.DefaultAsyncTimeoutSecs);
        _maxTimeout = FlagReader.Define(command, "--max-timeout-secs", "Highest 'timeout'/'connect_timeout' a request may ask for (larger values are capped)", d.Limits.MaxTimeoutSecs);
        _syncWait = FlagReader.Define(command, "--max-sync-wait-secs", "How long a sync call may wait for the upstream before 408", d.MaxSyncWaitSecs);
        _maxSync = FlagReader.Define(command, "--max-concurrent-sync", "Sync requests and executing channel streams in flight together (REST beyond it: 503 QUEUE_FULL; channel streams wait)", d.MaxConcurrentSync);
        _urlLength = FlagReader.Define(command, "--max-url-length", "Longest accepted target URL, in characters", d.Limits.MaxUrlLength);
        _headerCount = FlagReader.Define(command, "--max-header-count", "Most extra request headers per request", d.Limits.MaxHeaderCount);
        _headerBytes = FlagReader.Define(command, "--max-header-bytes", "Longest single request header (name + value), in bytes", d.Limits.MaxHeaderBytes);
        _jsonDepth = FlagReader.Define(command, "--max-json-depth", "Deepest JSON nesting accepted in a request body", d.Limits.MaxJsonDepth);
        _redirectStrip = FlagReader.DefineList(command, "--redirect-strip-header",
            "Header-name pattern (* wildcard, case-insensitive) dropped when a redirect changes scheme, host or port; replaces the default list *-Key *-Token *-Secret *Auth* (Cookie, Authorization, Proxy-Authorization and the cookie field are always dropped)");
        _allow = FlagReader.DefineList(command, "--allow-cidr", "Allow connections to this CIDR even if the SSRF policy denies it by default");
        _deny = FlagReader.DefineList(command, "--deny-cidr", "Deny connections to this CIDR (wins over --allow-cidr)");
        _allowPrivate = FlagReader.DefineSwitch(command, "--allow-private-networks", "Allow RFC 1918, CGNAT and IPv6 ULA addresses (loopback, link-local and metadata stay denied)");
        _resolve = FlagReader.DefineList(command, "--resolve", "Static host override HOST:PORT:ADDR, like curl --resolve; checked by the SSRF guard");
        _upstreamProxy = new Option<string?>("--upstream-proxy")
        {
            Description = "Send every request through this proxy (http://HOST:PORT, https://, socks5h://); targets are still resolved and checked by the SSRF guard. Proxy environment variables are always ignored",
            HelpName = "URL",
        };
        command.Options.Add(_upstreamProxy);
    }

    public void AddServices(IServiceCollection services, ParseResult flags)
    {
        var host = HostSettings.FromFlags(flags);
        var threads = FlagReader.NonNegative(flags, _threads);
        var options = new RequestsOptions
        {
            TransferThreads = threads == 0 ? Environment.ProcessorCount : threads,
            PoolPerOrigin = FlagReader.Positive(flags, _perOrigin),
            PoolGlobal = FlagReader.Positive(flags, _global),
            PoolConnections = FlagReader.Positive(flags, _connections),
            MaxBusyTransfers = FlagReader.NonNegative(flags, _busy),
            MaxRequestBodyBytes = FlagReader.Positive(flags, _maxBody),
            MaxResponseBufferBytes = FlagReader.Positive(flags, _maxBuffer),
            MaxResponseHeaderCount = FlagReader.Positive(flags, _responseHeaderCount),
            MaxResponseHeaderBytes = FlagReader.Positive(flags, _responseHeaderBytes),
            RedirectStripHeaders = flags.GetValue(_redirectStrip) is { Length: > 0 } strip ? strip : RequestsOptions.DefaultRedirectStripHeaders,
            DefaultTimeoutSecs = FlagReader.Positive(flags, _defaultTimeout),
            DefaultAsyncTimeoutSecs = FlagReader.Positive(flags, _asyncTimeout),
            MaxSyncWaitSecs = FlagReader.Positive(flags, _syncWait),
            MaxConcurrentSync = FlagReader.Positive(flags, _maxSync),
            Limits = new RequestLimits
            {
                MaxTimeoutSecs = FlagReader.Positive(flags, _maxTimeout),
                MaxUrlLength = FlagReader.Positive(flags, _urlLength),
                MaxHeaderCount = FlagReader.Positive(flags, _headerCount),
                MaxHeaderBytes = FlagReader.Positive(flags, _headerBytes),
                MaxJsonDepth = FlagReader.Positive(flags, _jsonDepth),
            },
            Ssrf = new SsrfOptions
            {
                AllowCidrs = flags.GetValue(_allow) ?? [],
                DenyCidrs = flags.GetValue(_deny) ?? [],
                AllowPrivateNetworks = flags.GetValue(_allowPrivate),
                Resolve = flags.GetValue(_resolve) ?? [],
                OwnEndpoints = [host.Listen],
            },
        };
        if (flags.GetValue(_upstreamProxy) is { Length: > 0 } proxyUrl)
        {
            try
            {
                options = options with { UpstreamProxy = proxyUrl, Proxy = UpstreamProxy.Parse(proxyUrl) };
            }
            catch (ArgumentException e)
            {
                throw new FlagException("--upstream-proxy", "--upstream-proxy " + e.Message);
            }
        }
        SsrfGuard guard;
        try
        {
            guard = new SsrfGuard(options.Ssrf);
        }
        catch (ArgumentException e)
        {
            var flag = e.Message.StartsWith("--", StringComparison.Ordinal) ? e.Message.Split(':')[0] : "--allow-cidr/--deny-cidr/--resolve";
            throw new FlagException(flag, e.Message);
        }
        services.AddSingleton(options);
        services.AddSingleton(guard);
        services.AddSingleton(sp => new EngineMetrics(sp.GetRequiredService<MetricsRegistry>()));
        services.AddSingleton<RequestExecutor>();
        // The cache sits in front of the engine only when it is on: an off cache costs a request nothing and counts nothing.
        services.AddSingleton<IRequestExecutor>(sp => sp.GetService<HoodyCurl.Cache.IResponseCache>() is { Enabled: true } cache
            ? new CachingExecutor(sp.GetRequiredService<RequestExecutor>(), cache, guard, options, sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetRequiredService<EngineMetrics>(), sp.GetRequiredService<ILogger<RequestExecutor>>())
            : sp.GetRequiredService<RequestExecutor>());
        services.AddSingleton<ISyncLimiter, SyncLimiter>();
        services.AddSingleton<SyncRequestHandler>();
        services.AddSingleton<SsePassthrough>();
        services.AddSingleton<IRequestDispatcher>(sp => sp.GetRequiredService<SyncRequestHandler>());
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.ServiceProvider.GetRequiredService<SsePassthrough>(); // its metric families are on /metrics from the start
        endpoints.MapRequests();
    }
}
