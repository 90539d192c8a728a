// Long-poll support (docs/api.md E1): callers wait on a per-job signal that the worker sets the moment
// the job becomes terminal, so a waiter wakes within milliseconds and nothing polls the database.
using System.Collections.Concurrent;

namespace HoodyCurl.Jobs;

internal sealed class JobWaiters
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);

    /// <summary>
    /// The signal of <paramref name="jobId"/>'s next terminal transition. Take it before reading the job,
    /// so a transition between the read and the wait cannot be missed.
    /// </summary>
    public Task Signal(string jobId) =>
        _signals.GetOrAdd(jobId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Wakes every waiter of <paramref name="jobId"/> (called after the terminal state is committed).</summary>
    public void Notify(string jobId)
    {
        if (_signals.TryRemove(jobId, out var signal)) signal.TrySetResult();
    }

    /// <summary>Signals not yet fired (tests).</summary>
    public int Count => _signals.Count;
}
