using System.Globalization;
using System.Net;
using HoodyCurl.TestUpstream.Endpoints;
using HoodyCurl.TestUpstream.RawHeaders;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HoodyCurl.TestUpstream;

/// <summary>
/// An httpbin-like HTTP/1.1 server on 127.0.0.1 with an OS-assigned port. Each instance is
/// independent (its own traces, sessions and nonces), so tests can start as many as they like in
/// parallel. It logs nothing.
/// </summary>
public sealed class TestUpstreamServer : IAsyncDisposable
{
    // Requests still running at dispose get this long before their connections are aborted.
    private static readonly TimeSpan StopGrace = TimeSpan.FromMilliseconds(250);

    private readonly WebApplication _app;
    private readonly TraceRegistry _traces;
    private readonly RequestCounter _requests;
    private readonly CacheableEndpoints _cacheable;
    private int _disposed;

    private TestUpstreamServer(WebApplication app, TraceRegistry traces, RequestCounter requests, CacheableEndpoints cacheable, int port, bool https, IPAddress address)
    {
        _cacheable = cacheable;
        _app = app;
        _traces = traces;
        _requests = requests;
        Port = port;
        BaseUrl = string.Create(CultureInfo.InvariantCulture, $"{(https ? "https" : "http")}://{address}:{port}");
    }

    public int Port { get; }

    /// <summary>"http://127.0.0.1:{Port}" (https:// for <see cref="StartHttpsAsync"/>).</summary>
    public string BaseUrl { get; }

    /// <summary>Total requests that reached the application (all endpoints, including unknown paths).</summary>
    public long RequestCount => _requests.Value;

    /// <summary><see cref="BaseUrl"/> + <paramref name="pathAndQuery"/>, which starts with '/'.</summary>
    public string Url(string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        if (!pathAndQuery.StartsWith('/'))
        {
            throw new ArgumentException("pathAndQuery must start with '/'.", nameof(pathAndQuery));
        }
        return BaseUrl + pathAndQuery;
    }

    /// <summary>Requests /cacheable/<paramref name="name"/> received (cache tests).</summary>
    public long CacheableHits(string name) => _cacheable.Hits(name);

    /// <summary>Conditional requests (If-None-Match / If-Modified-Since) /cacheable/<paramref name="name"/> received.</summary>
    public long CacheableConditionalHits(string name) => _cacheable.ConditionalHits(name);

    /// <summary>The trace for requests carrying <c>?trace=<paramref name="id"/></c>; created on first use.</summary>
    public RequestTrace Trace(string id) => _traces.Get(id);

    public static Task<TestUpstreamServer> StartAsync(CancellationToken ct = default) => StartAsync(https: false, ct);

    /// <summary>The plain-HTTP server on another loopback address (e.g. 127.0.0.2) and, when given, a chosen port (DNS-pin tests).</summary>
    public static Task<TestUpstreamServer> StartOnAsync(IPAddress address, int port = 0, CancellationToken ct = default) => StartAsync(https: false, ct, address, port);

    /// <summary>The same server over TLS with a self-signed certificate for 127.0.0.1 (for `insecure` tests).</summary>
    public static Task<TestUpstreamServer> StartHttpsAsync(CancellationToken ct = default) => StartAsync(https: true, ct);

    private static async Task<TestUpstreamServer> StartAsync(bool https, CancellationToken ct, IPAddress? address = null, int port = 0)
    {
        address ??= IPAddress.Loopback;
        var traces = new TraceRegistry();
        var requests = new RequestCounter();
        var rawHeads = new RawHeadTap();

        // The empty builder brings no configuration sources and no logging providers: the fastest
        // start and no output. Its console lifetime is replaced, see PassiveHostLifetime.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton<IHostLifetime, PassiveHostLifetime>();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            KestrelServerLimits limits = kestrel.Limits;
            limits.MaxRequestBodySize = null;
            limits.MaxRequestHeadersTotalSize = 1024 * 1024;
            limits.MaxRequestLineSize = 1024 * 1024;
            limits.MaxRequestHeaderCount = 10_000;
            // Clients under test apply back-pressure and throttle on purpose; Kestrel must not
            // mistake that for a slow-loris client and cut them off.
            limits.MinRequestBodyDataRate = null;
            limits.MinResponseDataRate = null;
            kestrel.Listen(address, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (https) listen.UseHttps(SelfSignedCertificate.Value.Value);
                listen.Use(rawHeads.OnConnectionAsync);
            });
        });

        WebApplication app = builder.Build();
        app.Use(next => new TraceMiddleware(next, traces, requests).InvokeAsync);
        app.Use(rawHeads.OnRequestAsync);
        app.UseRouting();
        MapEndpoints(app);
        var cacheable = new CacheableEndpoints();
        cacheable.Map(app);

        await app.StartAsync(ct);
        return new TestUpstreamServer(app, traces, requests, cacheable, BoundPort(app), https, address);
    }

    private static void MapEndpoints(WebApplication app)
    {
        EchoEndpoints.Map(app);
        StatusEndpoints.Map(app);
        BytesEndpoints.Map(app);
        PacedEndpoints.Map(app);
        CompressionEndpoints.Map(app);
        RedirectEndpoints.Map(app);
        TokenAuthEndpoints.Map(app);
        new DigestAuthEndpoints().Map(app);
        HeaderEndpoints.Map(app);
        CookieEndpoints.Map(app);
        new SessionEndpoints().Map(app);
        FailureEndpoints.Map(app);
    }

    private static int BoundPort(WebApplication app)
    {
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new Uri(address).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        using (var grace = new CancellationTokenSource(StopGrace))
        {
            await _app.StopAsync(grace.Token);
        }
        await _app.DisposeAsync();
    }
}
