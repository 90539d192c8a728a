// WHATWG event-stream parsing for the channel's response.sse_event frames (channel.md §10).
using System.Text;
using HoodyCurl.Realtime.Channel;

namespace HoodyCurl.Realtime.Tests.Channel;

public class SseEventParserTests
{
    private static List<SseEventParser.SseEvent> Parse(string text, int split = int.MaxValue)
    {
        var parser = new SseEventParser();
        var events = new List<SseEventParser.SseEvent>();
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i += split) parser.Feed(bytes.AsSpan(i, Math.Min(split, bytes.Length - i)), events);
        return events;
    }

    [Test]
    public async Task Fields_comments_line_endings_and_default_event_name()
    {
        var text = ": comment\r\nevent: ping\rdata: a\ndata:b\r\nid: 42\nretry: 3000\n\ndata: second\n\nevent: empty\n\nretry: x1\ndata\n\n";
        for (var split = 1; split <= text.Length; split++)
        {
            var events = Parse(text, split);
            await Assert.That(events.Count).IsEqualTo(3);
            await Assert.That(events[0]).IsEqualTo(new SseEventParser.SseEvent("ping", "a\nb", "42", 3000, false));
            await Assert.That(events[1]).IsEqualTo(new SseEventParser.SseEvent("message", "second", null, null, false));
            await Assert.That(events[2]).IsEqualTo(new SseEventParser.SseEvent("message", "", null, null, false));
        }
    }

    [Test]
    public async Task An_event_larger_than_the_cap_is_cut_at_a_character_boundary_and_marked()
    {
        var line = "data: " + new string('é', 100_000) + "\n"; // 200 000 bytes of data per line
        var events = Parse(string.Concat(Enumerable.Repeat(line, 8)) + "\ndata: next\n\n");
        await Assert.That(events.Count).IsEqualTo(2);
        await Assert.That(events[0].Truncated).IsTrue();
        var kept = Encoding.UTF8.GetByteCount(events[0].Data);
        await Assert.That(kept).IsLessThanOrEqualTo(SseEventParser.AggregateBytes);
        await Assert.That(kept).IsGreaterThan(SseEventParser.AggregateBytes - 4); // cut only to stay on a character boundary
        await Assert.That(events[0].Data.Contains('\uFFFD')).IsFalse();
        await Assert.That(events[1]).IsEqualTo(new SseEventParser.SseEvent("message", "next", null, null, false));
    }

    [Test]
    public async Task A_line_longer_than_the_line_cap_is_cut_at_a_character_boundary_and_marked()
    {
        var events = Parse("data: x" + new string('€', SseEventParser.PartialLineBytes) + "\n\n"); // 3 bytes each
        await Assert.That(events.Count).IsEqualTo(1);
        await Assert.That(events[0].Truncated).IsTrue();
        await Assert.That(events[0].Data.Contains('\uFFFD')).IsFalse();
        await Assert.That(events[0].Data.Length).IsGreaterThan(80_000);
    }
}
