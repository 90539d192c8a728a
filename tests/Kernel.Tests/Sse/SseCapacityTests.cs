// The process-wide --max-sse-concurrent semaphore: permits up to the limit, refusals counted, a
// released permit serves the next stream, and double release never frees two.
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Kernel.Sse;

namespace HoodyCurl.Kernel.Tests.Sse;

public class SseCapacityTests
{
    [Test]
    public async Task Permits_stop_at_the_limit_and_come_back_on_release()
    {
        var metrics = new MetricsRegistry();
        var capacity = new SseCapacity(new SseSettings { MaxConcurrent = 2 }, metrics);
        var a = capacity.TryAcquire(SseKinds.Passthrough);
        var b = capacity.TryAcquire(SseKinds.Jobs);
        await Assert.That(a).IsNotNull();
        await Assert.That(b).IsNotNull();
        await Assert.That(capacity.TryAcquire(SseKinds.Jobs)).IsNull();
        await Assert.That(capacity.Held).IsEqualTo(2);

        a!.Dispose();
        a.Dispose(); // a second release must not free another permit
        await Assert.That(capacity.Held).IsEqualTo(1);
        var c = capacity.TryAcquire(SseKinds.Passthrough);
        await Assert.That(c).IsNotNull();
        await Assert.That(capacity.TryAcquire(SseKinds.Passthrough)).IsNull();

        var text = metrics.Render();
        await Assert.That(text).Contains("hoody_curl_sse_streams_open{kind=\"passthrough\"} 1");
        await Assert.That(text).Contains("hoody_curl_sse_streams_open{kind=\"jobs\"} 1");
        await Assert.That(text).Contains("hoody_curl_sse_capacity_rejections_total{kind=\"jobs\"} 1");
        await Assert.That(text).Contains("hoody_curl_sse_capacity_rejections_total{kind=\"passthrough\"} 1");
        b!.Dispose();
        c!.Dispose();
        await Assert.That(capacity.Held).IsEqualTo(0);
    }

    [Test]
    public async Task Refusal_is_503_sse_capacity_with_retry_after_5()
    {
        var capacity = new SseCapacity(new SseSettings { MaxConcurrent = 4 }, new MetricsRegistry());
        var error = capacity.Refusal();
        await Assert.That(error.Status).IsEqualTo(503);
        await Assert.That(error.Code).IsEqualTo("SSE_CAPACITY");
        await Assert.That(error.RetryAfterSeconds).IsEqualTo(5);
        await Assert.That(error.Message).Contains("--max-sse-concurrent is 4");
    }

    [Test]
    public async Task Concurrent_takers_never_exceed_the_limit()
    {
        var capacity = new SseCapacity(new SseSettings { MaxConcurrent = 7 }, new MetricsRegistry());
        var taken = new System.Collections.Concurrent.ConcurrentBag<IDisposable>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 100; i++)
                if (capacity.TryAcquire(SseKinds.Jobs) is { } permit) taken.Add(permit);
        })));
        await Assert.That(taken.Count).IsEqualTo(7);
        await Assert.That(capacity.Held).IsEqualTo(7);
    }
}
