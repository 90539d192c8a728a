// The scheduling module wired by hand over a real SQLite file in a temp folder, with a fake job
// service. Two fixtures on one folder model a restart.
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace HoodyCurl.Scheduling.Tests.Support;

internal sealed class SchedulingFixture : IAsyncDisposable
{
    private readonly TempDir? _ownDir;
    private bool _started;

    /// <summary>
    /// A scheduler over a fake clock: <see cref="StartAsync"/> only plans (no thread), and <see cref="Advance"/>
    /// moves the clock and runs every firing that became due, synchronously.
    /// </summary>
    public SchedulingFixture(string? storageDir = null, FakeJobs? jobs = null, FakeTimeProvider? clock = null)
    {
        if (storageDir is null) { _ownDir = new TempDir(); storageDir = _ownDir.Path; }
        StorageDir = storageDir;
        Clock = clock;
        Jobs = jobs ?? new FakeJobs(clock);
        Database = new Database(storageDir);
        Store = new ScheduleStore(Database);
        Metrics = new MetricsRegistry();
        ScheduleMetrics = new ScheduleMetrics(Metrics);
        Scheduler = new Scheduler(Store, Jobs, ScheduleMetrics, Options, NullLogger.Instance, (TimeProvider?)clock ?? TimeProvider.System);
        Service = new ScheduleService(Store, Scheduler, new FakeExecutor(), Options, NullLogger.Instance);
    }

    public SchedulingOptions Options { get; } = new();
    public FakeTimeProvider? Clock { get; }
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
        if (Clock is not null)
        {
            Scheduler.Plan();
            return this;
        }
        await Scheduler.StartAsync(CancellationToken.None);
        _started = true;
        return this;
    }

    /// <summary>Moves the fake clock by <paramref name="by"/> and runs what became due (each turn until nothing is).</summary>
    public void Advance(TimeSpan by)
    {
        Clock!.Advance(by);
        for (var turns = 0; Scheduler.RunDue(out _); turns++)
            if (turns > 10_000) throw new InvalidOperationException("the scheduler keeps finding due firings at one instant");
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
