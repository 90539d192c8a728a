using System.Globalization;
using System.Text;

namespace HoodyCurl.TestUpstream.RawHeaders;

/// <summary>
/// Follows the HTTP/1.1 request framing of one connection's inbound bytes (heads, Content-Length
/// and chunked bodies, trailers) to cut out each request head in order. It only observes: Kestrel
/// still does the real parsing, so on anything surprising this parser stops (goes opaque) and the
/// echo answers fall back to Kestrel's view of the headers.
/// </summary>
internal sealed class Http1FramingParser(Action<RawRequestHead> onHead)
{
    private const int MaxHeadBytes = 2 * 1024 * 1024;
    private const int MaxChunkLineBytes = 8 * 1024;

    private enum State { Head, FixedBody, ChunkSize, ChunkData, Trailer, Opaque }

    private State _state = State.Head;
    private byte[] _buffer = new byte[4096];
    private int _length;
    private int _lineStart;
    private long _remaining;

    public void Feed(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty && _state != State.Opaque)
        {
            if (_state is State.FixedBody or State.ChunkData)
            {
                int skip = (int)Math.Min(_remaining, data.Length);
                data = data[skip..];
                _remaining -= skip;
                if (_remaining == 0)
                {
                    _state = _state == State.FixedBody ? State.Head : State.ChunkSize;
                }
                continue;
            }

            // Heads, chunk-size lines and trailers are small; byte-wise scanning keeps this simple.
            byte next = data[0];
            data = data[1..];
            if (Append(next) && next == (byte)'\n')
            {
                OnLineEnd();
            }
        }
    }

    private bool Append(byte value)
    {
        int limit = _state == State.Head ? MaxHeadBytes : MaxChunkLineBytes;
        if (_length == limit)
        {
            _state = State.Opaque;
            return false;
        }
        if (_length == _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxHeadBytes));
        }
        _buffer[_length++] = value;
        return true;
    }

    private void OnLineEnd()
    {
        ReadOnlySpan<byte> line = _buffer.AsSpan(_lineStart, _length - _lineStart).TrimEnd("\r\n"u8);
        switch (_state)
        {
            case State.Head when line.IsEmpty && _lineStart == 0:
                // Blank lines between requests are tolerated by RFC 9112 section 2.2.
                Reset();
                break;
            case State.Head when line.IsEmpty:
                CompleteHead(Encoding.Latin1.GetString(_buffer, 0, _lineStart));
                Reset();
                break;
            case State.Head:
                _lineStart = _length;
                break;
            case State.ChunkSize:
                OnChunkSizeLine(Encoding.Latin1.GetString(line));
                Reset();
                break;
            case State.Trailer:
                if (line.IsEmpty)
                {
                    _state = State.Head;
                }
                Reset();
                break;
        }
    }

    private void OnChunkSizeLine(string line)
    {
        int extension = line.IndexOf(';', StringComparison.Ordinal);
        string hex = (extension < 0 ? line : line[..extension]).Trim();
        if (!long.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long size) || size < 0)
        {
            _state = State.Opaque;
            return;
        }
        if (size == 0)
        {
            _state = State.Trailer;
            return;
        }
        _remaining = size + 2; // the data and its CRLF
        _state = State.ChunkData;
    }

    private void CompleteHead(string text)
    {
        string[] lines = text.Split('\n');
        string[] requestLine = lines[0].TrimEnd('\r').Split(' ');
        if (requestLine.Length != 3)
        {
            _state = State.Opaque;
            return;
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (string raw in lines.Skip(1))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }
            if (line[0] is ' ' or '\t' && headers.Count > 0)
            {
                // Obsolete line folding continues the previous value.
                var last = headers[^1];
                headers[^1] = new(last.Key, last.Value + " " + line.Trim());
                continue;
            }
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                _state = State.Opaque;
                return;
            }
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim(' ', '\t')));
        }

        onHead(new RawRequestHead(requestLine[0], requestLine[1], headers));
        _state = BodyStateAfter(requestLine[0], headers);
    }

    private State BodyStateAfter(string method, List<KeyValuePair<string, string>> headers)
    {
        if (method == "CONNECT")
        {
            return State.Opaque;
        }

        string? transferEncoding = Joined(headers, "Transfer-Encoding");
        if (transferEncoding is not null)
        {
            bool chunked = transferEncoding.Split(',').Last().Trim().Equals("chunked", StringComparison.OrdinalIgnoreCase);
            return chunked ? State.ChunkSize : State.Opaque;
        }

        string? contentLength = Joined(headers, "Content-Length");
        if (contentLength is null)
        {
            return State.Head;
        }
        if (!long.TryParse(contentLength, NumberStyles.None, CultureInfo.InvariantCulture, out long length))
        {
            return State.Opaque;
        }
        _remaining = length;
        return length == 0 ? State.Head : State.FixedBody;
    }

    private static string? Joined(List<KeyValuePair<string, string>> headers, string name)
    {
        var values = headers.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
        return values.Count == 0 ? null : string.Join(",", values);
    }

    private void Reset()
    {
        _length = 0;
        _lineStart = 0;
    }
}
