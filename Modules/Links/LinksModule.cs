// The links module: its flag, its services (store, service, metrics) and its endpoints, including the
// /l/<token> door. Sits above Jobs in the module graph (DESIGN.md); reaches the engine through
// IRequestExecutor (SSRF pre-check at creation) and IRequestDispatcher (the /request door's path).
using System.CommandLine;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Links.Endpoints;
using HoodyCurl.Requests;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Links;

public sealed class LinksModule : IModule
{
    private static readonly LinksOptions Defaults = new();

    private Option<int>? _historyMax;

    public void AddFlags(Command command)
    {
        _historyMax = FlagReader.Define(command, "--link-history-max",
            "History entries kept per magic link; the oldest are dropped beyond it", Defaults.HistoryMax);
    }

    public void AddServices(IServiceCollection services, ParseResult flags)
    {
        if (_historyMax is null) throw new InvalidOperationException("AddFlags must run before AddServices");
        Register(services, new LinksOptions { HistoryMax = FlagReader.Positive(flags, _historyMax) });
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        // Built now, not on the first call: migrations run and interrupted openings are marked at start,
        // and the metric families are on /metrics from the first scrape.
        endpoints.ServiceProvider.GetRequiredService<LinkService>();
        endpoints.MapLinks();
    }

    /// <summary>
    /// Registers the module's services. Needs from the host: <see cref="Database"/>,
    /// <see cref="MetricsRegistry"/>, <see cref="IRequestExecutor"/>, <see cref="IRequestDispatcher"/>,
    /// <see cref="RequestsOptions"/> and logging.
    /// </summary>
    internal static void Register(IServiceCollection services, LinksOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp => new LinkStore(sp.GetRequiredService<Database>()));
        services.AddSingleton(sp => new LinkMetrics(sp.GetRequiredService<MetricsRegistry>()));
        services.AddSingleton(sp => new LinkService(
            sp.GetRequiredService<LinkStore>(), sp.GetRequiredService<IRequestExecutor>(), sp.GetRequiredService<LinkMetrics>(),
            options, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("HoodyCurl.Links")));
        services.AddSingleton<ILinkService>(sp => sp.GetRequiredService<LinkService>());
    }
}
