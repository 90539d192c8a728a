// Where an upstream SSE stream stands when it ends, so the passthrough's trailing frame is never
// merged into an unfinished upstream event (events.md §4.4), and which Content-Types are promoted.
using System.Text;
using HoodyCurl.Requests.Endpoints;

namespace HoodyCurl.Requests.Tests.Endpoints;

public class SseBoundaryTests
{
    private static string PrefixAfter(params string[] chunks)
    {
        var boundary = new SseBoundary();
        foreach (var chunk in chunks) boundary.Feed(Encoding.UTF8.GetBytes(chunk));
        return boundary.Prefix;
    }

    [Test]
    [Arguments("", "")]
    [Arguments("data: a\n\n", "")]
    [Arguments("data: a\r\n\r\n", "")]
    [Arguments("data: a\r\r", "")]
    [Arguments("data: a\n", "\n")]
    [Arguments("data: a\r\n", "\n")]
    [Arguments("data: a", "\n\n")]
    [Arguments("data: a\n\ndata: b", "\n\n")]
    [Arguments("data: a\r", "\n\n")]
    [Arguments(": comment\n", "\n")]
    public async Task Prefix_closes_whatever_is_unfinished(string stream, string prefix)
    {
        await Assert.That(PrefixAfter(stream)).IsEqualTo(prefix);
    }

    [Test]
    public async Task Chunk_borders_do_not_matter()
    {
        // A CRLF split over two chunks is still one terminator; the blank line after it ends the event.
        await Assert.That(PrefixAfter("data: a\r", "\n", "\r", "\n")).IsEqualTo("");
        await Assert.That(PrefixAfter("data: a\r", "\n")).IsEqualTo("\n");
        await Assert.That(PrefixAfter("da", "ta: a", "\n", "\n", "id")).IsEqualTo("\n\n");
    }

    [Test]
    public async Task The_prefixed_frame_parses_as_its_own_event()
    {
        // Whatever the upstream left, upstream + prefix + frame splits into events the frame is the last of.
        foreach (var tail in new[] { "data: a", "data: a\n", "data: a\r", "data: a\r\n", "data: a\n\n", "" })
        {
            var text = tail + PrefixAfter(tail) + "event: end\ndata: {}\n\n";
            var normalised = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
            var events = normalised.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            await Assert.That(events[^1]).IsEqualTo("event: end\ndata: {}");
        }
    }

    [Test]
    [Arguments("text/event-stream", true)]
    [Arguments("text/event-stream; charset=utf-8", true)]
    [Arguments("Text/Event-Stream", true)]
    [Arguments("text/event-streams", false)]
    [Arguments("application/json", false)]
    public async Task Only_text_event_stream_is_promoted(string contentType, bool promoted)
    {
        await Assert.That(SsePassthrough.IsEventStream(contentType)).IsEqualTo(promoted);
    }
}
