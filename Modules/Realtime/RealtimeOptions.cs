// The realtime module's settings, read once from flags by RealtimeModule. To add a setting: a
// property here with its default in the XML doc, a flag in RealtimeModule.AddFlags, its validation in
// RealtimeModule.Read. The SSE flags shared with Requests (--no-sse, --max-sse-concurrent,
// --sse-max-duration-secs) live in Kernel's SseSettings.
namespace HoodyCurl.Realtime;

public sealed record RealtimeOptions
{
    /// <summary>Seconds without any write after which /sse sends the `:` comment (`--sse-heartbeat-secs`). Default 15.</summary>
    public int HeartbeatSecs { get; init; } = 15;

    /// <summary>Seconds between WebSocket pings on /ws (`--ws-ping-secs`). Default 30 (docs/api.md (Events)).</summary>
    public int WsPingSecs { get; init; } = 30;

    /// <summary>
    /// Seconds without a pong after which /ws drops the connection (`--ws-drop-secs`), counted from the
    /// previous ping round; must exceed the ping interval. Default 90 (docs/api.md (Events)).
    /// </summary>
    public int WsDropSecs { get; init; } = 90;

    /// <summary>
    /// Events buffered per /ws or /sse subscriber before newer ones are dropped for it and a lag notice
    /// is sent (`--event-subscriber-buffer`). Default 1024.
    /// </summary>
    public int SubscriberBuffer { get; init; } = 1024;

    /// <summary>
    /// Kernel send buffer of each /ws socket, in bytes (`--ws-send-buffer-bytes`). Fixed instead of
    /// auto-tuned (which grows to megabytes on loopback), so a subscriber that stops reading blocks its
    /// sender soon and is told it lagged instead of the kernel hiding it. Default 65536.
    /// </summary>
    public int WsSendBufferBytes { get; init; } = 64 * 1024;

    /// <summary>`retry:` the /sse stream announces, in ms (docs/api.md (Events)). Fixed: 5000.</summary>
    public int SseRetryMs { get; init; } = 5000;

    /// <summary>Events read from the durable log per query while replaying. Default 1000.</summary>
    public int ReplayPage { get; init; } = 1000;
}
