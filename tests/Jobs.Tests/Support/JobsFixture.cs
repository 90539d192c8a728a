// The jobs module wired by hand over a real SQLite file in a temp folder: store, event log and bus,
// worker pool, service and the start-up lifecycle. Two fixtures on one folder model a restart.
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace HoodyCurl.Jobs.Tests.Support;

internal sealed class JobsFixture : IAsyncDisposable
{
    private readonly TempDir? _ownDir;
    private bool _started;

    public JobsFixture(JobsOptions? options = null, string? storageDir = null, ScriptedExecutor? executor = null)
    {
        if (storageDir is null) { _ownDir = new TempDir(); storageDir = _ownDir.Path; }
        StorageDir = storageDir;
        Options = options ?? new JobsOptions();
        Executor = executor ?? new ScriptedExecutor();
        Database = new Database(storageDir);
        Events = new JobEvents(Database);
        Store = new JobStore(Database, Events, TimeProvider.System);
        Files = new JobFiles(Database.StorageDir);
        Metrics = new MetricsRegistry();
        JobMetrics = new JobMetrics(Metrics);
        Waiters = new JobWaiters();
        Worker = new JobWorker(Store, Executor, Options, Files, JobMetrics, Waiters, NullLogger.Instance, TimeProvider.System);
        Service = new JobService(Store, Worker, Waiters, JobMetrics, Files, Options, Events, NullLogger.Instance);
        Lifecycle = new JobsLifecycle(Store, Worker, Files, Options, JobMetrics, NullLogger.Instance, TimeProvider.System);
    }

    public string StorageDir { get; }
    public JobsOptions Options { get; }
    public ScriptedExecutor Executor { get; }
    public Database Database { get; }
    public JobEvents Events { get; }
    public JobStore Store { get; }
    public JobFiles Files { get; }
    public MetricsRegistry Metrics { get; }
    public JobMetrics JobMetrics { get; }
    public JobWaiters Waiters { get; }
    public JobWorker Worker { get; }
    public JobService Service { get; }
    public JobsLifecycle Lifecycle { get; }

    public async Task<JobsFixture> StartAsync()
    {
        await Lifecycle.StartAsync(CancellationToken.None);
        _started = true;
        return this;
    }

    public Task<JobRecord> SubmitAsync(string url = "http://upstream.test/x", string? method = null, string? name = null, JobOrigin? origin = null) =>
        Service.SubmitAsync(new CurlRequest { Url = url, Method = method, JobName = name }, origin ?? JobOrigin.None, CancellationToken.None);

    /// <summary>Waits (long-poll) until the job is terminal; fails the test after 10 s.</summary>
    public async Task<JobRecord> WaitTerminalAsync(string id, int timeoutMs = 10_000)
    {
        var job = await Service.WaitAsync(id, TimeSpan.FromMilliseconds(timeoutMs), CancellationToken.None);
        if (job is null || !JobStatus.IsTerminal(job.Status))
            throw new TimeoutException($"job {id} is still {job?.Status ?? "missing"} after {timeoutMs} ms");
        return job;
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await Lifecycle.StopAsync(cts.Token);
        }
        _ownDir?.Dispose();
    }
}
