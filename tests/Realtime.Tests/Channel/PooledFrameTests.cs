// The pooled outbound body frames (issue 10): a binary BODY frame rented from ArrayPool holds the same bytes
// as the plain encoder (from a span or a multi-segment sequence), and the hand-written text `response.body`
// frame is the JSON object of channel.md §7.5 whose data decodes back to the chunk, for sizes around the
// base64 padding boundaries and the whole u64 / i64 range of its numbers.
using System.Buffers;
using System.Text.Json;
using HoodyCurl.Realtime.Channel;

namespace HoodyCurl.Realtime.Tests.Channel;

public class PooledFrameTests
{
    [Test]
    public async Task A_rented_binary_frame_matches_the_encoder_from_a_span_and_from_a_segmented_sequence()
    {
        var payload = new byte[70_001];
        new Random(7).NextBytes(payload);
        var expected = BinaryFrame.Encode(BinaryFrame.KindBody, BinaryFrame.FlagLast, 0x0102030405060708UL, payload);

        var fromSpan = BinaryFrame.Rent(BinaryFrame.KindBody, BinaryFrame.FlagLast, 0x0102030405060708UL, payload.AsSpan(), out var spanLength);
        await Assert.That(spanLength).IsEqualTo(expected.Length);
        await Assert.That(fromSpan.AsSpan(0, spanLength).SequenceEqual(expected)).IsTrue();
        ArrayPool<byte>.Shared.Return(fromSpan);

        var sequence = Segmented(payload, 16 * 1024);
        var fromSequence = BinaryFrame.Rent(BinaryFrame.KindBody, BinaryFrame.FlagLast, 0x0102030405060708UL, sequence, out var sequenceLength);
        await Assert.That(sequenceLength).IsEqualTo(expected.Length);
        await Assert.That(fromSequence.AsSpan(0, sequenceLength).SequenceEqual(expected)).IsTrue();
        ArrayPool<byte>.Shared.Return(fromSequence);
    }

    [Test]
    public async Task A_rented_text_body_frame_is_the_response_body_object_and_decodes_to_the_chunk()
    {
        var random = new Random(11);
        foreach (var size in new[] { 0, 1, 2, 3, 4, 5, 1023, 1024, 65_536, 65_537 })
        {
            foreach (var (streamId, offset) in new[] { (0UL, 0L), (7UL, 65_536L), (ulong.MaxValue, long.MaxValue) })
            {
                var chunk = new byte[size];
                random.NextBytes(chunk);
                var frame = ChannelFrames.RentBody(streamId, offset, chunk, out var length);
                using (var json = JsonDocument.Parse(frame.AsMemory(0, length)))
                {
                    var root = json.RootElement;
                    await Assert.That(root.EnumerateObject().Select(p => p.Name).ToArray()).IsEquivalentTo(new[] { "type", "stream_id", "offset", "encoding", "data" });
                    await Assert.That(root.GetProperty("type").GetString()).IsEqualTo("response.body");
                    await Assert.That(root.GetProperty("stream_id").GetUInt64()).IsEqualTo(streamId);
                    await Assert.That(root.GetProperty("offset").GetInt64()).IsEqualTo(offset);
                    await Assert.That(root.GetProperty("encoding").GetString()).IsEqualTo("base64");
                    await Assert.That(Convert.FromBase64String(root.GetProperty("data").GetString()!).AsSpan().SequenceEqual(chunk)).IsTrue();
                }
                ArrayPool<byte>.Shared.Return(frame);
            }
        }
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int segment)
    {
        Segment? first = null, last = null;
        for (var at = 0; at < bytes.Length; at += segment)
        {
            var next = new Segment(bytes.AsMemory(at, Math.Min(segment, bytes.Length - at)), at);
            if (last is null) first = next;
            else last.Link(next);
            last = next;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void Link(Segment next) => Next = next;
    }
}
