// WHATWG event-stream parsing for the channel's typed `response.sse_event` frames (docs/api.md (Channel)):
// lines end in \n, \r\n or \r; ':' lines are comments; one space after the colon is dropped; a blank
// line dispatches; events without data lines are not dispatched; `retry` only when all digits. One
// event's data is capped (AggregateBytes, then cut at a character boundary and marked truncated) and
// so is one line (PartialLineBytes: the excess is dropped at a character boundary, and a data line cut
// so marks its event truncated), so a hostile upstream cannot make the parser hold more than ~1.25 MiB.
using System.Text;

namespace HoodyCurl.Realtime.Channel;

internal sealed class SseEventParser
{
    public const int AggregateBytes = 1024 * 1024;
    public const int PartialLineBytes = 256 * 1024;

    private readonly List<byte> _line = new(256);
    private bool _lineCut;
    private bool _lastWasCr;
    private readonly StringBuilder _data = new();
    private int _dataBytes;
    private bool _hasData;
    private bool _truncated;
    private string? _event;
    private string? _id;
    private long? _retry;

    public readonly record struct SseEvent(string Event, string Data, string? Id, long? Retry, bool Truncated);

    /// <summary>Feeds bytes; complete events are added to <paramref name="events"/>.</summary>
    public void Feed(ReadOnlySpan<byte> bytes, List<SseEvent> events)
    {
        foreach (var b in bytes)
        {
            if (_lastWasCr)
            {
                _lastWasCr = false;
                if (b == (byte)'\n') continue; // the \n of \r\n
            }
            if (b == (byte)'\r') { _lastWasCr = true; EndLine(events); continue; }
            if (b == (byte)'\n') { EndLine(events); continue; }
            if (_line.Count < PartialLineBytes) _line.Add(b);
            else _lineCut = true;
        }
    }

    private void EndLine(List<SseEvent> events)
    {
        var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_line);
        var cut = _lineCut;
        if (cut) bytes = bytes[..CompleteUtf8Length(bytes)]; // a cut line ends on a character boundary
        var line = Encoding.UTF8.GetString(bytes);
        _line.Clear();
        _lineCut = false;
        if (line.Length == 0)
        {
            Dispatch(events);
            return;
        }
        if (line[0] == ':') return;
        var colon = line.IndexOf(':');
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? "" : line[(colon + 1)..];
        if (value.StartsWith(' ')) value = value[1..];
        switch (field)
        {
            case "event": _event = value; break;
            case "data":
                AppendData(value);
                if (cut) _truncated = true; // the line's excess was dropped
                break;
            case "id": if (!value.Contains('\0')) _id = value; break;
            case "retry":
                if (value.Length > 0 && value.All(char.IsAsciiDigit) && long.TryParse(value, out var ms)) _retry = ms;
                break;
        }
    }

    /// <summary>The length of <paramref name="bytes"/> without a trailing incomplete UTF-8 sequence.</summary>
    private static int CompleteUtf8Length(ReadOnlySpan<byte> bytes)
    {
        var start = bytes.Length;
        for (var back = 1; back <= 4 && back <= bytes.Length; back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte
            var need = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            start = bytes.Length - back;
            return need > back ? start : bytes.Length;
        }
        return start;
    }

    private void AppendData(string value)
    {
        if (_hasData) Append("\n");
        _hasData = true;
        Append(value);
    }

    private void Append(string text)
    {
        if (_truncated) return;
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (_dataBytes + bytes <= AggregateBytes)
        {
            _data.Append(text);
            _dataBytes += bytes;
            return;
        }
        // Cut at a character boundary (never inside a surrogate pair).
        foreach (var rune in text.EnumerateRunes())
        {
            if (_dataBytes + rune.Utf8SequenceLength > AggregateBytes) break;
            _data.Append(rune.ToString());
            _dataBytes += rune.Utf8SequenceLength;
        }
        _truncated = true;
    }

    private void Dispatch(List<SseEvent> events)
    {
        if (_hasData)
            events.Add(new SseEvent(string.IsNullOrEmpty(_event) ? "message" : _event, _data.ToString(), _id, _retry, _truncated));
        _data.Clear();
        _dataBytes = 0;
        _hasData = false;
        _truncated = false;
        _event = null;
        _retry = null;
        // The last event id persists across events (WHATWG); it is reported only on events that set it.
        _id = null;
    }
}
