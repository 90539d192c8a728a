// The sessions module: its flags, its store (the ISessionStore the engine leases jars from) and the
// /api/v1/curl/sessions endpoints.
using System.CommandLine;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Kernel.Time;
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
    private Option<int>? _maxSessions;
    private Option<int>? _idleDays;

    public void AddFlags(Command command)
    {
        _tombstoneSecs = FlagReader.Define(command, "--session-tombstone-secs",
            "Seconds a deleted session id answers 404 (tombstoned) before it can be used again; 0 disables",
            Defaults.TombstoneSecs);
        _maxCookies = FlagReader.Define(command, "--session-max-cookies",
            "Most cookies kept per session; beyond it those expiring first are dropped", Defaults.MaxCookies);
        _maxSessions = FlagReader.Define(command, "--max-sessions",
            "Most sessions stored at once; creating one more answers 503 TOO_MANY_SESSIONS", Defaults.MaxSessions);
        _idleDays = FlagReader.Define(command, "--session-idle-days",
            "Days a session may stay unused before an hourly sweep removes it; 0 keeps sessions until deleted", Defaults.IdleDays);
    }

    public void AddServices(IServiceCollection services, ParseResult flags)
    {
        if (_tombstoneSecs is null) throw new InvalidOperationException("AddFlags must run before AddServices");
        var options = new SessionsOptions
        {
            TombstoneSecs = FlagReader.NonNegative(flags, _tombstoneSecs),
            MaxCookies = FlagReader.Positive(flags, _maxCookies!),
            MaxSessions = FlagReader.Positive(flags, _maxSessions!),
            IdleDays = FlagReader.NonNegative(flags, _idleDays!),
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
        if (options.IdleDays > 0)
            services.AddSingleton<IHostedService>(sp => new IdleSweep(sp.GetRequiredService<SessionStore>(), sp.GetRequiredService<TimeProvider>()));
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints) => endpoints.MapSessions();

    /// <summary>--session-idle-days: removes sessions unused for longer, at start-up and every hour.</summary>
    private sealed class IdleSweep(SessionStore store, TimeProvider time) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
            using var stop = timer.StopOn(stoppingToken);
            do
            {
                try
                {
                    store.SweepIdle();
                }
                catch (Microsoft.Data.Sqlite.SqliteException)
                {
                    // A busy or failing database: the next sweep tries again.
                }
            }
            while (await timer.WaitForNextTickAsync().ConfigureAwait(false));
        }
    }

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
