// Replay across a disconnect (issue 9, acceptance 2; decisions E4): an /sse subscriber drops in the
// middle of 20 running jobs and comes back with the last id it saw; what it received over both
// connections is exactly the job event log — no gap, no duplicate. /ws?after=N replays the same way.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Jobs;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Realtime;

public class ReplayTests
{
    [Test]
    public async Task Reconnecting_with_the_last_id_seen_gives_exactly_the_event_log()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-jobs", "20");
        var first = await SseClient.OpenAsync(sidecar.BaseUrl + "/sse");
        await first.WaitForAsync(f => f.Count >= 1); // subscribed (the retry preamble arrived)

        // 20 jobs of ~3 s each, paced so they emit progress events while they all run.
        var ids = new List<string>();
        for (var i = 0; i < 20; i++) ids.Add(await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/slow/40?chunk=2&interval_ms=150")));

        // Disconnect in the middle: every job has started and some progress went by.
        await first.WaitForAsync(f => f.Count(x => x.Event == "jobstarted") == 20 && f.Count(x => x.Event == "jobprogress") >= 10);
        var beforeDrop = first.Frames.Where(f => f.Id is not null).ToList();
        await first.DisposeAsync();
        var lastId = beforeDrop[^1].Id!;

        await using var second = await SseClient.OpenAsync(sidecar.BaseUrl + "/sse", lastEventId: lastId);
        var afterDrop = await second.WaitForAsync(f => f.Count(x => x.Event == "jobcompleted") == 20, seconds: 60);
        var received = beforeDrop.Concat(afterDrop.Where(f => f.Id is not null))
            .Select(f => (Id: long.Parse(f.Id!), Type: f.Event!, Job: f.Json.Str("job_id"))).ToList();

        var log = new List<(long Id, string Type, string Job)>();
        foreach (var id in ids) log.AddRange((await JobEventStreamTests.EventLogAsync(sidecar, id)).Select(e => (e.Id, e.Type, e.JobId)));
        log.Sort((x, y) => x.Id.CompareTo(y.Id));

        await Assert.That(received.Select(r => r.Id).Distinct().Count()).IsEqualTo(received.Count); // no duplicate
        await Assert.That(received).IsEquivalentTo(log, TUnit.Assertions.Enums.CollectionOrdering.Matching); // no gap, same order
        await Assert.That(received.Count(r => r.Type == "jobprogress")).IsGreaterThan(0);
        await Assert.That(afterDrop.Any(f => f.Event == "lagged")).IsFalse();
    }

    [Test]
    public async Task Ws_after_and_sse_after_replay_history_then_continue_live()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var a = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/bytes/8"));
        await JobsApi.WaitAsync(sidecar.Client, a);
        var logA = await JobEventStreamTests.EventLogAsync(sidecar, a);

        // after = the first event's id: the rest of A's history, then B live.
        var after = logA[0].Id;
        await using var ws = await WsClient.ConnectAsync(JobEventStreamTests.Ws(sidecar, $"/ws?after={after}"));
        await using var sse = await SseClient.OpenAsync(sidecar.BaseUrl + $"/api/v1/curl/sse?after={after}");
        var b = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/bytes/8"));
        await JobsApi.WaitAsync(sidecar.Client, b);
        var logB = await JobEventStreamTests.EventLogAsync(sidecar, b);
        var expected = logA.Skip(1).Concat(logB).Select(e => (e.Type, e.JobId)).ToList();

        var wsSeen = await ws.WaitForAsync(m => m.Count >= expected.Count);
        await Assert.That(wsSeen.Select(m => (m.Str("type"), m.Str("job_id"))).ToList()).IsEquivalentTo(expected, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        var sseSeen = await sse.WaitForAsync(f => f.Count(x => x.Id is not null) >= expected.Count);
        var sseEvents = sseSeen.Where(f => f.Id is not null).ToList();
        await Assert.That(sseEvents.Select(f => long.Parse(f.Id!)).ToList())
            .IsEquivalentTo(logA.Skip(1).Concat(logB).Select(e => e.Id).ToList(), TUnit.Assertions.Enums.CollectionOrdering.Matching);

        // The job_id filter applies to the replay too.
        await using var onlyB = await SseClient.OpenAsync(sidecar.BaseUrl + $"/sse?after=0&job_id={b}");
        var onlyBSeen = await onlyB.WaitForAsync(f => f.Count(x => x.Id is not null) >= logB.Count);
        await Assert.That(onlyBSeen.Where(f => f.Id is not null).Select(f => long.Parse(f.Id!)).ToList())
            .IsEquivalentTo(logB.Select(e => e.Id).ToList(), TUnit.Assertions.Enums.CollectionOrdering.Matching);
    }
}
