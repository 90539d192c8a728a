namespace HoodyCurl.TestUpstream;

/// <summary>
/// What the upstream saw of the requests that carried <c>?trace=&lt;id&gt;</c>, so a test can observe
/// the far side of a transfer: that it arrived, that the client went away, or that it completed.
/// The tasks complete on the first request that reaches each stage and stay completed.
/// </summary>
public sealed class RequestTrace
{
    private readonly TaskCompletionSource _started = NewSignal();
    private readonly TaskCompletionSource _aborted = NewSignal();
    private readonly TaskCompletionSource _finished = NewSignal();
    private volatile IReadOnlyDictionary<string, string> _lastHeaders = new Dictionary<string, string>();
    private int _hits;
    private int _active;
    private int _maxActive;

    internal RequestTrace(string id) => Id = id;

    public string Id { get; }

    /// <summary>Completes when a request carrying this trace id arrives.</summary>
    public Task Started => _started.Task;

    /// <summary>Completes when such a request's <c>HttpContext.RequestAborted</c> fires (the client went away).</summary>
    public Task Aborted => _aborted.Task;

    /// <summary>Completes when a handler for such a request finished writing without being aborted.</summary>
    public Task Finished => _finished.Task;

    /// <summary>Request headers of the last request with this id: lowercase names, repeats joined with ", ".</summary>
    public IReadOnlyDictionary<string, string> LastHeaders => _lastHeaders;

    /// <summary>How many requests carried this id.</summary>
    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Requests with this id being served right now (arrived, handler not yet returned).</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>The most requests with this id that were ever served at the same time.</summary>
    public int MaxActive => Volatile.Read(ref _maxActive);

    internal void OnStarted(IReadOnlyDictionary<string, string> headers)
    {
        _lastHeaders = headers;
        Interlocked.Increment(ref _hits);
        var active = Interlocked.Increment(ref _active);
        for (var max = Volatile.Read(ref _maxActive); active > max; max = Volatile.Read(ref _maxActive))
            if (Interlocked.CompareExchange(ref _maxActive, active, max) == max) break;
        _started.TrySetResult();
    }

    internal void OnEnded() => Interlocked.Decrement(ref _active);

    internal void OnAborted() => _aborted.TrySetResult();

    internal void OnFinished() => _finished.TrySetResult();

    // Continuations must not run inline on Kestrel's threads, or a test awaiting a signal would run
    // inside the request pipeline.
    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
