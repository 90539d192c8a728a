// The SSE flags shared by every door that streams server-sent events: the sync passthrough of
// /request (Requests), the job event stream /sse (Realtime) and, later, the channel. The host adds
// them to the command line next to HostSettings; each module reads the validated record.
using System.CommandLine;
using HoodyCurl.Kernel.Flags;

namespace HoodyCurl.Kernel.Sse;

public sealed record SseSettings
{
    /// <summary>--no-sse: turns off upstream SSE promotion on /request and the /sse route (404). Default: SSE on.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>--max-sse-concurrent: SSE streams open at once, process-wide (503 SSE_CAPACITY beyond). Default 256.</summary>
    public int MaxConcurrent { get; init; } = 256;
    /// <summary>--sse-max-duration-secs: wall-clock cap of any single SSE stream. Default 1800 (30 min).</summary>
    public int MaxDurationSecs { get; init; } = 1800;
    /// <summary>Seconds a client refused for capacity is told to wait (Retry-After). Default 5 (docs/api.md (Channel)).</summary>
    public int CapacityRetryAfterSecs { get; init; } = 5;

    public static readonly Option<bool> NoSseFlag = new("--no-sse")
    {
        Description = "Turn SSE off: no promotion of upstream text/event-stream on /request, and /sse answers 404",
        Arity = ArgumentArity.Zero,
    };
    public static readonly Option<int> MaxConcurrentFlag = new("--max-sse-concurrent")
    {
        Description = "SSE streams open at once (job /sse subscribers and promoted passthroughs); beyond it 503 SSE_CAPACITY",
        DefaultValueFactory = _ => 256,
    };
    public static readonly Option<int> MaxDurationFlag = new("--sse-max-duration-secs")
    {
        Description = "Wall-clock cap of any single SSE stream, in seconds (passthrough ends with event: error sse_max_duration)",
        DefaultValueFactory = _ => 1800,
    };

    public static void AddFlags(Command command)
    {
        command.Options.Add(NoSseFlag);
        command.Options.Add(MaxConcurrentFlag);
        command.Options.Add(MaxDurationFlag);
    }

    public static SseSettings FromFlags(ParseResult flags) => new()
    {
        Enabled = !flags.GetValue(NoSseFlag),
        MaxConcurrent = FlagReader.Positive(flags, MaxConcurrentFlag),
        MaxDurationSecs = FlagReader.Positive(flags, MaxDurationFlag),
    };
}
