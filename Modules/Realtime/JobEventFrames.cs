// The bytes of each job event on the wire (docs/api.md (Events)), built from the durable event's
// payload JSON (which never has a `type` field and is compact, one line):
//
//   SSE  event: jobstarted\ndata: {"job_id":"…","name":"…"}\nid: 42\n\n   (id = durable event id, E4)
//   WS   {"type":"jobstarted","job_id":"…","name":"…"}
//
// Lag notices: SSE `event: lagged` + `data: {"missed":N}` (no id: it is not a log event); WS
// `{"type":"error","message":"lagged: N events missed","missed":N}` (the documented WS error message).
using System.Buffers;
using System.Globalization;
using System.Text;
using HoodyCurl.Jobs;

namespace HoodyCurl.Realtime;

internal static class JobEventFrames
{
    /// <summary>The first bytes of every /sse body: the reconnect delay, then a blank line.</summary>
    public static byte[] SsePreamble(int retryMs) => Encoding.UTF8.GetBytes($"retry: {retryMs.ToString(CultureInfo.InvariantCulture)}\n\n");

    /// <summary>The heartbeat comment sent after an idle interval (docs/api.md (Events)).</summary>
    public static ReadOnlySpan<byte> SseHeartbeat => ":\n\n"u8;

    public static void WriteSse(IBufferWriter<byte> output, JobEvent e)
    {
        Write(output, "event: ");
        Write(output, e.Type);
        Write(output, "\ndata: ");
        Write(output, OneLine(e.PayloadJson));
        Write(output, "\nid: ");
        Write(output, e.Id.ToString(CultureInfo.InvariantCulture));
        Write(output, "\n\n");
    }

    public static void WriteSseLag(IBufferWriter<byte> output, long missed)
    {
        Write(output, "event: lagged\ndata: {\"missed\":");
        Write(output, missed.ToString(CultureInfo.InvariantCulture));
        Write(output, "}\n\n");
    }

    public static byte[] Ws(JobEvent e)
    {
        var payload = OneLine(e.PayloadJson).Trim();
        var typeField = "{\"type\":\"" + e.Type + "\"";
        // The payload is a JSON object: splice the type in as its first member.
        var text = payload.Length > 2 && payload[0] == '{' ? typeField + "," + payload[1..] : typeField + "}";
        return Encoding.UTF8.GetBytes(text);
    }

    public static byte[] WsLag(long missed)
    {
        var n = missed.ToString(CultureInfo.InvariantCulture);
        return Encoding.UTF8.GetBytes("{\"type\":\"error\",\"message\":\"lagged: " + n + " events missed\",\"missed\":" + n + "}");
    }

    /// <summary>SSE data must stay on one line; stored payloads are compact JSON, so this only guards.</summary>
    private static string OneLine(string json) =>
        json.AsSpan().IndexOfAny('\r', '\n') < 0 ? json : json.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);

    private static void Write(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
