// The scheduling module: its flag, its services (store, scheduler, service, metrics) and its
// endpoints. With --no-schedules nothing but the 404 answer of the schedule routes is registered.
using System.CommandLine;
using HoodyCurl.Jobs;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests;
using HoodyCurl.Scheduling.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Scheduling;

public sealed class SchedulingModule : IModule
{
    private Option<bool>? _noSchedules;
    private Option<int>? _maxSchedules, _minInterval;
    private SchedulingOptions? _options;

    public void AddFlags(Command command)
    {
        _noSchedules = FlagReader.DefineSwitch(command, "--no-schedules",
            "Turn the scheduler off: no schedule fires and every /api/v1/curl/schedule route answers 404");
        var d = new SchedulingOptions();
        _maxSchedules = FlagReader.Define(command, "--max-schedules", "Most schedules that may exist at once (409 TOO_MANY_SCHEDULES beyond)", d.MaxSchedules);
        _minInterval = FlagReader.Define(command, "--min-schedule-interval-secs", "Shortest gap a schedule's cron may leave between two firings, in seconds", d.MinIntervalSecs);
    }

    public void AddServices(IServiceCollection services, ParseResult flags)
    {
        if (_noSchedules is null || _maxSchedules is null || _minInterval is null) throw new InvalidOperationException("AddFlags must run before AddServices");
        _options = new SchedulingOptions
        {
            Enabled = !flags.GetValue(_noSchedules),
            MaxSchedules = FlagReader.Positive(flags, _maxSchedules),
            MinIntervalSecs = FlagReader.Positive(flags, _minInterval),
        };
        Register(services, _options);
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        if (_options is { Enabled: true }) endpoints.MapSchedules();
        else endpoints.MapSchedulesDisabled();
    }

    /// <summary>
    /// Registers the module's services. Needs from the host: <see cref="Database"/>,
    /// <see cref="MetricsRegistry"/>, <see cref="IRequestExecutor"/>, <see cref="RequestsOptions"/>,
    /// <see cref="IJobService"/> and logging. The scheduler is a hosted service registered after the
    /// jobs module's, so job recovery is done before the first firing.
    /// </summary>
    internal static void Register(IServiceCollection services, SchedulingOptions options)
    {
        services.AddSingleton(options);
        if (!options.Enabled) return;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new ScheduleStore(sp.GetRequiredService<Database>()));
        services.AddSingleton(sp => new ScheduleMetrics(sp.GetRequiredService<MetricsRegistry>()));
        services.AddSingleton(sp => new Scheduler(
            sp.GetRequiredService<ScheduleStore>(), sp.GetRequiredService<IJobService>(), sp.GetRequiredService<ScheduleMetrics>(),
            options, Logger(sp), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<Scheduler>());
        services.AddSingleton<IScheduleService>(sp => new ScheduleService(
            sp.GetRequiredService<ScheduleStore>(), sp.GetRequiredService<Scheduler>(), sp.GetRequiredService<IRequestExecutor>(),
            options, Logger(sp)));
    }

    private static ILogger Logger(IServiceProvider sp) => sp.GetRequiredService<ILoggerFactory>().CreateLogger("HoodyCurl.Scheduling");
}
