// One subscriber's ordered view of the job events: first the durable log after the client's last id
// (Last-Event-ID or ?after=N, docs/api.md E4), then the live bus, without a gap or a duplicate.
//
// Gap-free by construction: the caller subscribes to the bus *before* the feed reads the log, and the
// jobs module commits an event to the log before it publishes it. So every event is in the log pages
// read here or arrives on the subscription afterwards (or both: those are skipped by id, ids being
// global and increasing). If the subscription overflowed while the log was being read, the log is read
// again from the last id sent, so replay itself never loses an event. Once live, a subscriber that
// falls behind its bounded buffer loses the newest events and gets a lag notice with their number.
using System.Threading.Channels;
using HoodyCurl.Jobs;

namespace HoodyCurl.Realtime;

internal sealed class EventFeed
{
    /// <summary>Live events read between two looks at the drop counter while never running dry.</summary>
    internal const int LagCheckEvery = 256;

    private readonly ChannelReader<JobEvent> _live;
    private readonly Func<long> _takeMissed;
    private readonly Func<long, int, IReadOnlyList<JobEvent>> _readAfter;
    private readonly int _page;
    private readonly Queue<JobEvent> _replayed = new();
    private bool _replaying;
    private long _lastId;
    private int _sinceLagCheck;
    private long _pendingLag;

    /// <param name="live">The subscription's events (subscribed before this feed is created).</param>
    /// <param name="takeMissed">Events the subscription dropped since the last call (resets to 0).</param>
    /// <param name="readAfter">Durable events with id above the first argument, at most the second argument of them, oldest first.</param>
    /// <param name="after">The last id the client has, or null for live events only.</param>
    public EventFeed(ChannelReader<JobEvent> live, Func<long> takeMissed, Func<long, int, IReadOnlyList<JobEvent>> readAfter, long? after, int page)
    {
        _live = live;
        _takeMissed = takeMissed;
        _readAfter = readAfter;
        _page = Math.Max(1, page);
        _replaying = after is not null;
        _lastId = after ?? 0;
    }

    /// <summary>The id of the last event handed out (or the replay start).</summary>
    public long LastId => _lastId;

    /// <summary>The next item if one is ready now (may read a page of the log); false when the caller must wait.</summary>
    public bool TryNext(out FeedItem item)
    {
        while (true)
        {
            if (_replayed.TryDequeue(out var replayed))
            {
                _lastId = replayed.Id;
                item = FeedItem.Of(replayed);
                return true;
            }
            if (_replaying)
            {
                ReadPage();
                continue;
            }
            if (_live.TryRead(out var e))
            {
                if (e.Id <= _lastId) continue; // already sent from the log
                _lastId = e.Id;
                if (++_sinceLagCheck >= LagCheckEvery)
                {
                    _sinceLagCheck = 0;
                    var missedNow = _takeMissed();
                    if (missedNow > 0)
                    {
                        // Hand the event out first; the notice follows on the next call.
                        _pendingLag += missedNow;
                    }
                }
                item = FeedItem.Of(e);
                return true;
            }
            var missed = _pendingLag + _takeMissed();
            _pendingLag = 0;
            if (missed > 0)
            {
                item = FeedItem.Lag(missed);
                return true;
            }
            item = default;
            return false;
        }
    }

    /// <summary>Completes when live events may be ready (false: the subscription has ended).</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) =>
        _pendingLag > 0 ? ValueTask.FromResult(true) : _live.WaitToReadAsync(cancellationToken);

    private void ReadPage()
    {
        var page = _readAfter(_lastId, _page);
        foreach (var e in page) _replayed.Enqueue(e);
        if (page.Count >= _page) return; // more to read
        // The log is read to its end. Live events it already covered are dropped from the
        // subscription, which frees its buffer; if it overflowed meanwhile, read the log again.
        if (page.Count > 0) SkipLiveUpTo(page[^1].Id);
        SkipLiveUpTo(_lastId);
        if (_takeMissed() == 0) _replaying = false;
    }

    private void SkipLiveUpTo(long id)
    {
        while (_live.TryPeek(out var e) && e.Id <= id) _live.TryRead(out _);
    }
}

/// <summary>What a feed hands out: an event, or a lag notice with the number of events missed.</summary>
internal readonly record struct FeedItem(JobEvent? Event, long Missed)
{
    public static FeedItem Of(JobEvent e) => new(e, 0);
    public static FeedItem Lag(long missed) => new(null, missed);
}
