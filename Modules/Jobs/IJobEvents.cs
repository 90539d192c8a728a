// The job event log and bus (docs/api.md: Events; E4). Every lifecycle step of a job is
// first written to the durable per-job log (ids are global, monotonic and never reused), then
// published in id order to every live subscriber. The realtime module serves the bus over /ws and
// /sse and replays the log for Last-Event-ID.
using System.Threading.Channels;

namespace HoodyCurl.Jobs;

public interface IJobEvents
{
    /// <summary>
    /// Subscribes to events published from now on, optionally only those of <paramref name="jobId"/>.
    /// Each subscriber has its own bounded buffer of <paramref name="capacity"/> events; when it falls
    /// behind, newer events are dropped for it and counted (<see cref="JobEventSubscription.TakeMissed"/>).
    /// Dispose the subscription to leave.
    /// To replay without a gap: subscribe first, then read <see cref="ReadAfter"/> up to the first live
    /// id, and skip live events whose id you already sent.
    /// </summary>
    JobEventSubscription Subscribe(string? jobId = null, int capacity = 1024);

    /// <summary>Durable events with id greater than <paramref name="afterId"/>, oldest first.</summary>
    IReadOnlyList<JobEvent> ReadAfter(long afterId, string? jobId = null, int limit = 1000);
}

/// <summary>One event: `type` is jobstarted, jobprogress or jobcompleted (docs/api.md (Events)).</summary>
public sealed record JobEvent(
    long Id, string JobId, string Type, string Level, string Message, string PayloadJson, DateTimeOffset Timestamp);

/// <summary>Event type names of docs/api.md (Events).</summary>
public static class JobEventTypes
{
    public const string Started = "jobstarted";
    public const string Progress = "jobprogress";
    public const string Completed = "jobcompleted";
}

/// <summary>A live subscriber's cursor on the bus.</summary>
public sealed class JobEventSubscription : IDisposable
{
    private readonly Channel<JobEvent> _channel;
    private readonly Action<JobEventSubscription> _leave;
    private long _missed;

    internal JobEventSubscription(string? jobId, int capacity, Action<JobEventSubscription> leave)
    {
        JobId = jobId;
        _leave = leave;
        _channel = Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(Math.Max(1, capacity))
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: we count the drop
            SingleReader = true,
            SingleWriter = false,
        });
    }

    /// <summary>The job filter (exact match), or null for every job.</summary>
    public string? JobId { get; }

    /// <summary>The events, in publication (= id) order. Completes when the subscription is disposed.</summary>
    public ChannelReader<JobEvent> Reader => _channel.Reader;

    /// <summary>Events dropped since the last call because this subscriber was full; resets to 0.</summary>
    public long TakeMissed() => Interlocked.Exchange(ref _missed, 0);

    internal void Offer(JobEvent e)
    {
        if (JobId is not null && !string.Equals(JobId, e.JobId, StringComparison.Ordinal)) return;
        if (!_channel.Writer.TryWrite(e)) Interlocked.Increment(ref _missed);
    }

    public void Dispose()
    {
        _leave(this);
        _channel.Writer.TryComplete();
    }
}
