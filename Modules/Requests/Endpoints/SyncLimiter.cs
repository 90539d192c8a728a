// The one --max-concurrent-sync semaphore (ISyncLimiter): its permits are held for the whole answer
// (head, body, SSE relay), and hoody_curl_sync_in_flight counts the permits out, whatever door took them.
using HoodyCurl.Requests.Engine;

namespace HoodyCurl.Requests.Endpoints;

internal sealed class SyncLimiter(RequestsOptions options, EngineMetrics metrics) : ISyncLimiter
{
    private readonly SemaphoreSlim _permits = new(options.MaxConcurrentSync, options.MaxConcurrentSync);
    private readonly Kernel.Metrics.Gauge _inFlight = metrics.SyncInFlight;

    public int Limit => options.MaxConcurrentSync;

    public IDisposable? TryEnter() => _permits.Wait(0) ? new Permit(this) : null;

    public async ValueTask<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        if (!_permits.Wait(0)) await _permits.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Permit(this);
    }

    private sealed class Permit : IDisposable
    {
        private SyncLimiter? _owner;

        public Permit(SyncLimiter owner)
        {
            _owner = owner;
            owner._inFlight.Inc();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _owner, null) is not { } owner) return;
            owner._inFlight.Dec();
            owner._permits.Release();
        }
    }
}
