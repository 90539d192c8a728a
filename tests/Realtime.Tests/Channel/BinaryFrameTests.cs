// The channel's 16-byte binary frame header (channel.md §6.1): the spec's example bytes, round trips,
// and fuzz-style inputs (random, truncated, bit-flipped) that must never throw and must be refused
// exactly when a field is out of range.
using HoodyCurl.Realtime.Channel;

namespace HoodyCurl.Realtime.Tests.Channel;

public class BinaryFrameTests
{
    [Test]
    public async Task The_spec_example_last_chunk_hi_of_stream_7_encodes_byte_for_byte()
    {
        var frame = BinaryFrame.Encode(BinaryFrame.KindBody, BinaryFrame.FlagLast, 7, "hi"u8);
        await Assert.That(Convert.ToHexString(frame)).IsEqualTo("0101010000000000070000000000000068" + "69");
        await Assert.That(BinaryFrame.TryParse(frame, out var header, out var id)).IsNull();
        await Assert.That(header.Kind).IsEqualTo(BinaryFrame.KindBody);
        await Assert.That(header.Last).IsTrue();
        await Assert.That(header.StreamId).IsEqualTo(7UL);
        await Assert.That(id).IsEqualTo(7UL);
    }

    [Test]
    public async Task Stream_ids_round_trip_little_endian_over_the_whole_u64_range()
    {
        foreach (var value in new[] { 0UL, 1UL, 57UL, 0x0102030405060708UL, ulong.MaxValue })
        {
            var frame = BinaryFrame.Encode(BinaryFrame.KindRequestBody, 0, value, []);
            await Assert.That(frame.Length).IsEqualTo(16);
            await Assert.That(BinaryFrame.TryParse(frame, out var header, out _)).IsNull();
            await Assert.That(header.StreamId).IsEqualTo(value);
            await Assert.That(header.Last).IsFalse();
        }
        var le = BinaryFrame.Encode(BinaryFrame.KindBody, 0, 0x0102030405060708UL, []);
        await Assert.That(Convert.ToHexString(le.AsSpan(8, 8))).IsEqualTo("0807060504030201");
    }

    [Test]
    public async Task Short_frames_are_refused_without_a_stream_id_and_never_throw()
    {
        for (var length = 0; length < 16; length++)
        {
            var problem = BinaryFrame.TryParse(new byte[length], out _, out var id);
            await Assert.That(problem).IsNotNull();
            await Assert.That(id).IsNull();
        }
    }

    [Test]
    public async Task Fuzz_random_headers_are_accepted_exactly_when_every_field_is_valid()
    {
        var random = new Random(12345);
        var frame = new byte[40];
        var accepted = 0;
        for (var i = 0; i < 200_000; i++)
        {
            random.NextBytes(frame);
            var length = random.Next(0, frame.Length + 1);
            // Half the cases start from a valid header, a quarter of those with one byte of it corrupted,
            // so both the accepting and each refusing branch are exercised.
            if (i % 2 == 0)
            {
                frame[0] = 1;
                frame[1] = (byte)(1 + random.Next(2));
                frame[2] &= 1;
                frame[3] = 0;
                frame.AsSpan(4, 4).Clear();
                if (random.Next(4) == 0) frame[random.Next(8)] ^= (byte)(1 << random.Next(8));
                length = random.Next(14, frame.Length + 1);
            }
            var span = frame.AsSpan(0, length);
            var problem = BinaryFrame.TryParse(span, out var header, out var id);
            var valid = length >= 16 && span[0] == 1 && span[1] is 1 or 2 && (span[2] & 0xFE) == 0 && span[3] == 0
                        && span[4] == 0 && span[5] == 0 && span[6] == 0 && span[7] == 0;
            if (valid != (problem is null)) throw new InvalidOperationException($"case {i}: valid={valid} problem={problem} bytes={Convert.ToHexString(span)}");
            if (length >= 16 && id != BitConverter.ToUInt64(span[8..16])) throw new InvalidOperationException($"case {i}: stream id misread");
            if (valid)
            {
                accepted++;
                if (header.Kind != span[1] || header.Last != ((span[2] & 1) == 1)) throw new InvalidOperationException($"case {i}: header misread");
            }
        }
        await Assert.That(accepted).IsGreaterThan(10_000);
    }
}
