// The wire bytes of job events on /sse and /ws (contract events.md §2.2, §3.2; decisions E4).
using System.Buffers;
using System.Text;
using HoodyCurl.Jobs;

namespace HoodyCurl.Realtime.Tests;

public class JobEventFramesTests
{
    private static JobEvent Started(long id, string payload) =>
        new(id, "550e8400-e29b-41d4-a716-446655440000", JobEventTypes.Started, "info", "Job started", payload, DateTimeOffset.UnixEpoch);

    private static string Sse(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Test]
    public async Task Sse_block_has_event_data_id_in_that_order_with_the_durable_id()
    {
        var e = Started(42, """{"job_id":"550e8400-e29b-41d4-a716-446655440000","name":"nightly-export"}""");
        var text = Sse(w => JobEventFrames.WriteSse(w, e));
        await Assert.That(text).IsEqualTo(
            "event: jobstarted\ndata: {\"job_id\":\"550e8400-e29b-41d4-a716-446655440000\",\"name\":\"nightly-export\"}\nid: 42\n\n");
    }

    [Test]
    public async Task Sse_data_never_spans_lines()
    {
        var e = Started(7, "{\"job_id\":\"a\",\n\"name\":\"b\"}");
        var text = Sse(w => JobEventFrames.WriteSse(w, e));
        await Assert.That(text).IsEqualTo("event: jobstarted\ndata: {\"job_id\":\"a\",\"name\":\"b\"}\nid: 7\n\n");
    }

    [Test]
    public async Task Sse_preamble_heartbeat_and_lag_notice()
    {
        await Assert.That(Encoding.UTF8.GetString(JobEventFrames.SsePreamble(5000))).IsEqualTo("retry: 5000\n\n");
        await Assert.That(Encoding.UTF8.GetString(JobEventFrames.SseHeartbeat)).IsEqualTo(":\n\n");
        await Assert.That(Sse(w => JobEventFrames.WriteSseLag(w, 12))).IsEqualTo("event: lagged\ndata: {\"missed\":12}\n\n");
    }

    [Test]
    public async Task Ws_frame_puts_the_type_first_and_keeps_the_payload()
    {
        var e = new JobEvent(3, "j1", JobEventTypes.Completed, "info", "done", """{"job_id":"j1","status":"cancelled"}""", DateTimeOffset.UnixEpoch);
        await Assert.That(Encoding.UTF8.GetString(JobEventFrames.Ws(e))).IsEqualTo("""{"type":"jobcompleted","job_id":"j1","status":"cancelled"}""");
        var empty = e with { PayloadJson = "{}" };
        await Assert.That(Encoding.UTF8.GetString(JobEventFrames.Ws(empty))).IsEqualTo("""{"type":"jobcompleted"}""");
    }

    [Test]
    public async Task Ws_lag_notice_is_the_documented_error_message()
    {
        await Assert.That(Encoding.UTF8.GetString(JobEventFrames.WsLag(12)))
            .IsEqualTo("""{"type":"error","message":"lagged: 12 events missed","missed":12}""");
    }
}
