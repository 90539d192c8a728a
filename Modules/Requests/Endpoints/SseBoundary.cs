// Tracks where an SSE byte stream stands (WHATWG HTML §9.2.6: lines end with CRLF, LF or CR; an empty
// line dispatches the event), so the passthrough can close an unfinished upstream event before it
// appends its own trailing frame instead of merging into it (docs/api.md (Executing requests: SSE passthrough)).
namespace HoodyCurl.Requests.Endpoints;

internal struct SseBoundary
{
    private long _lineLength;   // characters of the current, unfinished line
    private bool _eventPending; // a field line ended but no empty line followed yet
    private bool _lastWasCr;    // a following LF would pair with it as one CRLF terminator

    /// <summary>Feeds the next bytes of the stream.</summary>
    public void Feed(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b == (byte)'\n' && _lastWasCr)
            {
                _lastWasCr = false; // the LF of a CRLF: the line already ended at the CR
                continue;
            }
            if (b is (byte)'\n' or (byte)'\r')
            {
                _eventPending = _lineLength > 0;
                _lineLength = 0;
                _lastWasCr = b == (byte)'\r';
                continue;
            }
            _lineLength++;
            _lastWasCr = false;
        }
    }

    /// <summary>True when the stream so far ends at an event boundary (or is empty).</summary>
    public readonly bool AtBoundary => _lineLength == 0 && !_eventPending;

    /// <summary>
    /// What to write before a new event so it starts on its own: "" at a boundary, "\n" after a finished
    /// field line, "\n\n" in the middle of a line. One more "\n" when the stream ends in a CR, because a
    /// reader pairs that CR with our first LF as a single CRLF.
    /// </summary>
    public readonly string Prefix
    {
        get
        {
            if (AtBoundary) return "";
            var prefix = _lineLength > 0 ? "\n\n" : "\n";
            return _lastWasCr ? prefix + "\n" : prefix;
        }
    }
}
