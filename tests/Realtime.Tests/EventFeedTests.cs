// The replay-then-live merge of one subscriber (decisions E4): no gap, no duplicate, lag notices only
// for live events that were really dropped. The live side is a real bounded channel with the same
// drop-and-count behaviour as the jobs module's subscription; the log is a list read by id.
using System.Threading.Channels;
using HoodyCurl.Jobs;

namespace HoodyCurl.Realtime.Tests;

public class EventFeedTests
{
    /// <summary>A log plus a bounded live buffer that drops (and counts) when full, like JobEventSubscription.</summary>
    private sealed class Bus(int capacity)
    {
        private readonly Channel<JobEvent> _live = System.Threading.Channels.Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait });
        private long _missed;
        public List<JobEvent> Log { get; } = [];
        public ChannelReader<JobEvent> Reader => _live.Reader;
        public long TakeMissed() => Interlocked.Exchange(ref _missed, 0);

        /// <summary>Commits to the log, then publishes (the jobs module's order).</summary>
        public JobEvent Publish(bool live = true)
        {
            var e = new JobEvent(Log.Count + 1, "job", JobEventTypes.Progress, "info", "", "{}", DateTimeOffset.UnixEpoch);
            Log.Add(e);
            if (live && !_live.Writer.TryWrite(e)) _missed++;
            return e;
        }

        public IReadOnlyList<JobEvent> ReadAfter(long after, int limit) => Log.Where(e => e.Id > after).Take(limit).ToList();

        public EventFeed Feed(long? after, int page = 3) => new(Reader, TakeMissed, ReadAfter, after, page);
    }

    private static List<FeedItem> Drain(EventFeed feed)
    {
        var items = new List<FeedItem>();
        while (feed.TryNext(out var item)) items.Add(item);
        return items;
    }

    private static long[] Ids(IEnumerable<FeedItem> items) => [.. items.Where(i => i.Event is not null).Select(i => i.Event!.Id)];

    [Test]
    public async Task Without_after_only_live_events_flow()
    {
        var bus = new Bus(16);
        for (var i = 0; i < 5; i++) bus.Publish(live: false); // before the subscription
        var feed = bus.Feed(after: null);
        bus.Publish();
        bus.Publish();
        await Assert.That(Ids(Drain(feed))).IsEquivalentTo(new long[] { 6, 7 });
    }

    [Test]
    public async Task Replay_then_live_has_no_gap_and_no_duplicate()
    {
        var bus = new Bus(16);
        for (var i = 0; i < 10; i++) bus.Publish(live: false); // history, ids 1..10
        var feed = bus.Feed(after: 4, page: 3);
        // Published after subscribing but before the feed read the log: in both places.
        bus.Publish();
        bus.Publish();
        var first = Drain(feed);
        bus.Publish(); // purely live
        var second = Drain(feed);
        var all = Ids(first.Concat(second));
        await Assert.That(all).IsEquivalentTo(Enumerable.Range(5, 9).Select(i => (long)i).ToArray(), TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(first.Concat(second).Any(i => i.Event is null)).IsFalse();
    }

    [Test]
    public async Task Overflow_while_replaying_is_recovered_from_the_log()
    {
        var bus = new Bus(2);
        var feed = bus.Feed(after: 0, page: 2);
        for (var i = 0; i < 9; i++) bus.Publish(); // the live buffer holds 2, drops 7
        var items = Drain(feed);
        await Assert.That(Ids(items)).IsEquivalentTo(Enumerable.Range(1, 9).Select(i => (long)i).ToArray(), TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(items.Any(i => i.Event is null)).IsFalse();
    }

    [Test]
    public async Task A_live_subscriber_that_falls_behind_gets_one_lag_notice_with_the_number_missed()
    {
        var bus = new Bus(4);
        var feed = bus.Feed(after: null);
        for (var i = 0; i < 10; i++) bus.Publish();
        var items = Drain(feed);
        await Assert.That(Ids(items)).IsEquivalentTo(new long[] { 1, 2, 3, 4 }, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(items[^1].Event).IsNull();
        await Assert.That(items[^1].Missed).IsEqualTo(6);
        bus.Publish();
        var after = Drain(feed);
        await Assert.That(Ids(after)).IsEquivalentTo(new long[] { 11 });
        await Assert.That(after.Any(i => i.Event is null)).IsFalse();
    }

    [Test]
    public async Task WaitAsync_wakes_on_a_live_event()
    {
        var bus = new Bus(4);
        var feed = bus.Feed(after: null);
        await Assert.That(feed.TryNext(out _)).IsFalse();
        var wait = feed.WaitAsync(CancellationToken.None).AsTask();
        await Assert.That(wait.IsCompleted).IsFalse();
        bus.Publish();
        await Assert.That(await wait.WaitAsync(TimeSpan.FromSeconds(10))).IsTrue();
        await Assert.That(feed.TryNext(out var item) && item.Event?.Id == 1).IsTrue();
    }
}
