// The state of the per-request access line (Log.RequestFinished). Besides the key/value pairs every structured sink
// reads (the json format writes them as "State"), it writes its message as UTF-8 itself: the console sink's simple
// format then skips the message string, the formatter and the UTF-16 → UTF-8 pass. The line cost 8% of the CPU per
// relayed 1 KiB request at 32 callers before (paired, --log-level information against warning; issue 13).
using System.Collections;
using System.Text.Unicode;
using HoodyCurl.Kernel.Logging;

namespace HoodyCurl.Requests.Engine;

internal sealed class AccessLine(string requestId, string door, string decision, string reason, string upstream,
    int status, long bytes, long durationMs, int attempts) : IReadOnlyList<KeyValuePair<string, object?>>, IUtf8LogMessage
{
    internal const string OriginalFormat =
        "request {RequestId} door={Door} decision={Decision} reason={Reason} upstream={Upstream} status={Status} bytes={Bytes} duration_ms={DurationMs} attempts={Attempts}";

    public static readonly Func<AccessLine, Exception?, string> Format = static (line, _) => line.ToString();

    /// <summary>The message as text (the json format and any other sink): the UTF-8 writer's bytes, decoded.</summary>
    public override string ToString()
    {
        var buffer = new byte[256];
        int written;
        while (!TryWriteMessage(buffer, out written)) buffer = new byte[buffer.Length * 2];
        return System.Text.Encoding.UTF8.GetString(buffer, 0, written);
    }

    public bool TryWriteMessage(Span<byte> destination, out int written) =>
        Utf8.TryWrite(destination,
            $"request {requestId} door={door} decision={decision} reason={reason} upstream={upstream} status={status} bytes={bytes} duration_ms={durationMs} attempts={attempts}",
            out written);

    public int Count => 10;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("RequestId", requestId),
        1 => new("Door", door),
        2 => new("Decision", decision),
        3 => new("Reason", reason),
        4 => new("Upstream", upstream),
        5 => new("Status", status),
        6 => new("Bytes", bytes),
        7 => new("DurationMs", durationMs),
        8 => new("Attempts", attempts),
        9 => new("{OriginalFormat}", OriginalFormat),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
