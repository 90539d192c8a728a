// The process-wide --max-concurrent-sync cap, shared by every door that runs a request while its caller
// waits: sync REST (/request, the GET bridge, magic links through IRequestDispatcher) and the WebSocket
// channel's streams. One semaphore, one in-flight gauge: the two doors together never exceed the cap.
namespace HoodyCurl.Requests;

public interface ISyncLimiter
{
    /// <summary>The cap (--max-concurrent-sync).</summary>
    int Limit { get; }

    /// <summary>
    /// A permit now, or null when all are taken (the REST doors answer 503 QUEUE_FULL). A permit freed while
    /// <see cref="EnterAsync"/> callers wait goes to the longest-waiting of them first.
    /// </summary>
    IDisposable? TryEnter();

    /// <summary>
    /// Waits (FIFO) for a permit: the channel's streams queue on their socket until one is free. Throws
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires first.
    /// </summary>
    ValueTask<IDisposable> EnterAsync(CancellationToken cancellationToken);
}
