using System.Buffers;
using System.IO.Pipelines;

namespace HoodyCurl.TestUpstream.RawHeaders;

/// <summary>
/// Passes a connection's input through to Kestrel unchanged while showing every byte to the
/// framing parser exactly once. A read result repeats the bytes Kestrel did not consume, so the
/// reader remembers how much of the current buffer the parser has already seen.
/// </summary>
internal sealed class TappingPipeReader(PipeReader inner, Http1FramingParser parser) : PipeReader
{
    private ReadOnlySequence<byte> _lastBuffer;
    private long _alreadySeen;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ReadResult result = await inner.ReadAsync(cancellationToken);
        Observe(result.Buffer);
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }
        Observe(result.Buffer);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _alreadySeen -= _lastBuffer.Slice(0, consumed).Length;
        _lastBuffer = default;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private void Observe(ReadOnlySequence<byte> buffer)
    {
        _lastBuffer = buffer;
        if (buffer.Length <= _alreadySeen)
        {
            return;
        }
        foreach (ReadOnlyMemory<byte> segment in buffer.Slice(_alreadySeen))
        {
            parser.Feed(segment.Span);
        }
        _alreadySeen = buffer.Length;
    }
}
