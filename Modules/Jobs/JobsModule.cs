// The jobs module: its flags, its services (store, workers, event log and bus, the async submitter
// that /request's mode:"async" reaches) and its endpoints.
using System.CommandLine;
using HoodyCurl.Jobs.Endpoints;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Jobs;

public sealed class JobsModule : IModule
{
    private static readonly JobsOptions Defaults = new();

    private Option<int>? _maxConcurrent;
    private Option<int>? _maxPending;
    private Option<long>? _inlineBody;
    private Option<int>? _retentionDays;
    private Option<bool>? _requeue;

    public void AddFlags(Command command)
    {
        _maxConcurrent = FlagReader.Define(command, "--max-concurrent-jobs",
            "Async jobs executing at once", Defaults.MaxConcurrentJobs);
        _maxPending = FlagReader.Define(command, "--max-pending-jobs",
            "Async jobs waiting for a worker before submits get 503 QUEUE_FULL", Defaults.MaxPendingJobs);
        _inlineBody = FlagReader.Define(command, "--job-inline-body-bytes",
            "Largest response body shown inline in a job record; larger ones only via /result", Defaults.InlineBodyBytes);
        _retentionDays = FlagReader.Define(command, "--job-retention-days",
            "Delete finished jobs after this many days; 0 keeps them forever", Defaults.RetentionDays);
        _requeue = FlagReader.DefineSwitch(command, "--requeue-interrupted",
            "On start-up, re-queue idempotent (GET, HEAD, PUT, DELETE, OPTIONS) jobs a crash interrupted instead of failing them");
    }

    public void AddServices(IServiceCollection services, ParseResult flags)
    {
        if (_maxConcurrent is null) throw new InvalidOperationException("AddFlags must run before AddServices");
        Register(services, Read(flags));
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints) => endpoints.MapJobs();

    private JobsOptions Read(ParseResult flags)
    {
        var inline = flags.GetValue(_inlineBody!);
        if (inline < 0) throw new FlagException(_inlineBody!.Name, $"must be zero or a positive integer, got {inline}");
        return new JobsOptions
        {
            MaxConcurrentJobs = FlagReader.Positive(flags, _maxConcurrent!),
            MaxPendingJobs = FlagReader.Positive(flags, _maxPending!),
            InlineBodyBytes = inline,
            RetentionDays = FlagReader.NonNegative(flags, _retentionDays!),
            RequeueInterrupted = flags.GetValue(_requeue!),
        };
    }

    /// <summary>
    /// Registers the module's services. Needs from the host: <see cref="Database"/>,
    /// <see cref="MetricsRegistry"/>, <see cref="IRequestExecutor"/> and logging.
    /// </summary>
    internal static void Register(IServiceCollection services, JobsOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp => new JobEvents(sp.GetRequiredService<Database>()));
        services.AddSingleton<IJobEvents>(sp => sp.GetRequiredService<JobEvents>());
        services.AddSingleton(sp => new JobStore(sp.GetRequiredService<Database>(), sp.GetRequiredService<JobEvents>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new JobFiles(sp.GetRequiredService<Database>().StorageDir));
        services.AddSingleton(sp => new JobMetrics(sp.GetRequiredService<MetricsRegistry>()));
        services.AddSingleton(_ => new JobWaiters());
        services.AddSingleton(sp => new JobWorker(
            sp.GetRequiredService<JobStore>(), sp.GetRequiredService<IRequestExecutor>(), options,
            sp.GetRequiredService<JobFiles>(), sp.GetRequiredService<JobMetrics>(), sp.GetRequiredService<JobWaiters>(),
            Logger(sp), sp.GetRequiredService<TimeProvider>(), sp.GetService<HoodyCurl.Storage.IFileStore>()));
        services.AddSingleton(sp => new JobService(
            sp.GetRequiredService<JobStore>(), sp.GetRequiredService<JobWorker>(), sp.GetRequiredService<JobWaiters>(),
            sp.GetRequiredService<JobMetrics>(), sp.GetRequiredService<JobFiles>(), options, sp.GetRequiredService<JobEvents>(),
            Logger(sp)));
        services.AddSingleton<IJobService>(sp => sp.GetRequiredService<JobService>());
        services.AddSingleton<IAsyncJobSubmitter>(sp => sp.GetRequiredService<JobService>());
        services.AddSingleton<IHostedService>(sp => new JobsLifecycle(
            sp.GetRequiredService<JobStore>(), sp.GetRequiredService<JobWorker>(), sp.GetRequiredService<JobFiles>(), options,
            sp.GetRequiredService<JobMetrics>(), Logger(sp), sp.GetRequiredService<TimeProvider>()));
    }

    private static ILogger Logger(IServiceProvider sp) => sp.GetRequiredService<ILoggerFactory>().CreateLogger("HoodyCurl.Jobs");
}
