// The sessions module: its flags, its store (the ISessionStore the engine leases jars from) and the
// /api/v1/curl/sessions endpoints.
using System.CommandLine;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Sessions.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Sessions;

public sealed class SessionsModule : IModule
{
    private static readonly SessionsOptions Defaults = new();

    private Option<int>? _tombstoneSecs;
    private Option<int>? _maxCookies;

    public void AddFlags(Command command)
    {
        _tombstoneSecs = FlagReader.Define(command, "--session-tombstone-secs",
            "Seconds a deleted session id answers 404 (tombstoned) before it can be used again; 0 disables",
            Defaults.TombstoneSecs);
        _maxCookies = FlagReader.Define(command, "--session-max-cookies",
            "Most cookies kept per session; beyond it those expiring first are dropped", Defaults.MaxCookies);
    }

    public void AddServices(IServiceCollection services, ParseResult flags)
    {
        if (_tombstoneSecs is null) throw new InvalidOperationException("AddFlags must run before AddServices");
        var options = new SessionsOptions
        {
            TombstoneSecs = FlagReader.NonNegative(flags, _tombstoneSecs),
            MaxCookies = FlagReader.Positive(flags, _maxCookies!),
        };
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp => new SessionStore(
            sp.GetRequiredService<Database>(), options, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("HoodyCurl.Sessions"),
            new SessionMetrics(sp.GetRequiredService<MetricsRegistry>())));
        services.AddSingleton<ISessionStore>(sp => sp.GetRequiredService<SessionStore>());
        // Run the migrations and the tombstone clean-up at start-up, not on the first request.
        services.AddSingleton<IHostedService>(sp => new StartUp(() => sp.GetRequiredService<SessionStore>()));
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints) => endpoints.MapSessions();

    private sealed class StartUp(Func<object> touch) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            touch();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
