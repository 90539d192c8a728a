// The scheduling module wired by hand over a real SQLite file in a temp folder, with a fake job
// service. Two fixtures on one folder model a restart.
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace HoodyCurl.Scheduling.Tests.Support;

internal sealed class SchedulingFixture : IAsyncDisposable
{
    private readonly TempDir? _ownDir;
    private bool _started;

    public SchedulingFixture(string? storageDir = null, FakeJobs? jobs = null)
    {
        if (storageDir is null) { _ownDir = new TempDir(); storageDir = _ownDir.Path; }
        StorageDir = storageDir;
        Jobs = jobs ?? new FakeJobs();
        Database = new Database(storageDir);
        Store = new ScheduleStore(Database);
        Metrics = new MetricsRegistry();
        ScheduleMetrics = new ScheduleMetrics(Metrics);
        Scheduler = new Scheduler(Store, Jobs, ScheduleMetrics, Options, NullLogger.Instance, TimeProvider.System);
        Service = new ScheduleService(Store, Scheduler, new FakeExecutor(), Options, NullLogger.Instance);
    }

    public SchedulingOptions Options { get; } = new();
    public string StorageDir { get; }
    public FakeJobs Jobs { get; }
    public Database Database { get; }
    public ScheduleStore Store { get; }
    public MetricsRegistry Metrics { get; }
    public ScheduleMetrics ScheduleMetrics { get; }
    public Scheduler Scheduler { get; }
    public ScheduleService Service { get; }

    public async Task<SchedulingFixture> StartAsync()
    {
        await Scheduler.StartAsync(CancellationToken.None);
        _started = true;
        return this;
    }

    public ScheduleRecord Create(string cron = "*/1 * * * * *", bool enabled = true, bool skipIfRunning = false, string? timeZone = null,
        string url = "http://upstream.test/x") =>
        Service.Create(new ScheduleDraft
        {
            Cron = cron,
            Request = new CurlRequest { Url = url, JobName = "probe", BearerToken = "s3cret" },
            Enabled = enabled,
            SkipIfRunning = skipIfRunning,
            TimeZone = timeZone,
        });

    public async ValueTask DisposeAsync()
    {
        if (_started) await Scheduler.StopAsync(CancellationToken.None);
        Scheduler.Dispose();
        _ownDir?.Dispose();
    }
}
