namespace HoodyCurl.TestUpstream;

/// <summary>Requests served by one server instance, shared by the middleware that counts and the server that reports.</summary>
internal sealed class RequestCounter
{
    private long _count;

    public long Value => Interlocked.Read(ref _count);

    public void Increment() => Interlocked.Increment(ref _count);
}
