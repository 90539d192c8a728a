// Start-up and shutdown of the jobs module (an IHostedService, started before Kestrel listens):
// recover what a dead process left (running → failed "interrupted by restart" or re-queued; pending →
// queued), sweep stray temp files, start the workers and the optional retention sweep; on shutdown,
// let running jobs finish within the host's shutdown timeout.
using HoodyCurl.Kernel.Time;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Jobs;

internal sealed class JobsLifecycle(JobStore store, JobWorker worker, JobFiles files, JobsOptions options, JobMetrics metrics,
    ILogger log, TimeProvider time) : IHostedService
{
    /// <summary>How often the retention sweep runs when --job-retention-days is set.</summary>
    internal static readonly TimeSpan RetentionInterval = TimeSpan.FromHours(1);

    private readonly CancellationTokenSource _stopping = new();
    private Task _retention = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var outcome = store.Recover(options.RequeueInterrupted);
        foreach (var id in outcome.Failed.Concat(outcome.Requeued).Concat(outcome.Cancelled)) files.Delete(id);
        foreach (var _ in outcome.Failed) metrics.Finished(JobStatus.Failed, null);
        foreach (var _ in outcome.Cancelled) metrics.Finished(JobStatus.Cancelled, null);
        var known = store.AllIds();
        var swept = files.Sweep(known.Contains);
        foreach (var id in outcome.Pending) worker.EnqueueRecovered(id);
        Log.Recovered(log, outcome.Failed.Count, outcome.Requeued.Count, outcome.Cancelled.Count, outcome.Pending.Count, swept);

        if (options.RetentionDays > 0)
        {
            SweepRetention();
            _retention = Task.Run(RetentionLoopAsync, CancellationToken.None);
        }
        worker.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await worker.StopAsync(cancellationToken).ConfigureAwait(false);
        await _retention.ConfigureAwait(false);
    }

    /// <summary>Deletes finished jobs older than --job-retention-days, with their events and body files.</summary>
    internal int SweepRetention()
    {
        try
        {
            var cutoff = time.GetUtcNow().AddDays(-options.RetentionDays);
            var deleted = store.DeleteFinishedBefore(cutoff);
            foreach (var id in deleted) files.Delete(id);
            if (deleted.Count > 0) Log.RetentionDeleted(log, deleted.Count, options.RetentionDays);
            return deleted.Count;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.RetentionFailed(log, e);
            return 0;
        }
    }

    private async Task RetentionLoopAsync()
    {
        using var timer = new PeriodicTimer(RetentionInterval, time);
        using var stop = timer.StopOn(_stopping.Token); // shutting down ends the loop
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false)) SweepRetention();
    }
}
