// The engine's options, read once from flags (RequestsModule.AddFlags). Every default is documented
// here and in the README's flag table.
using System.Net;
using HoodyCurl.Requests.Security;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Requests;

public sealed record RequestsOptions
{
    /// <summary>--transfer-threads: threads each driving one curl_multi. Default: the number of cores.</summary>
    public int TransferThreads { get; init; } = Environment.ProcessorCount;
    /// <summary>--pool-per-origin: idle easy handles kept per origin. Default 8.</summary>
    public int PoolPerOrigin { get; init; } = 8;
    /// <summary>--pool-global: idle easy handles kept in all. Default 64.</summary>
    public int PoolGlobal { get; init; } = 64;
    /// <summary>--pool-connections: upstream connections each transfer thread keeps open for reuse (at least; it
    /// grows with the transfers running at once). Default 256.</summary>
    public int PoolConnections { get; init; } = 256;
    /// <summary>--max-busy-transfers: while the process is CPU-saturated, young transfers each transfer thread runs at once;
    /// more wait in its queue, in order (0 = no limit). Default 0: it saves CPU on fast upstreams under overload and can
    /// cost throughput on slow ones at very high concurrency (bench/RESULTS.md, issue 13).</summary>
    public int MaxBusyTransfers { get; init; } = 0;
    /// <summary>For how many of its loop's events (socket events and starts), per unit of --max-busy-transfers, a started
    /// transfer counts toward the limit. A transfer brings about two events (its start, its response), so with 1.5 a loop
    /// whose transfers all outlive that span (slow upstreams, streams, downloads) counts ~0.75 × the limit young and
    /// never holds a start back, while 1 KiB transfers under overload, which end sooner, keep ~1.3 × the limit running.</summary>
    internal double BusyTransferEvents { get; init; } = 1.5;
    /// <summary>The process's CPU use over a BusyWindow, as a share of the cores it may use, from which the limit applies
    /// (0.9), and below which it stops applying again (0.75): below that the process has CPU to spare.</summary>
    internal double BusyCpuShare { get; init; } = 0.9;
    internal double BusyCpuShareOff { get; init; } = 0.75;
    /// <summary>The process's CPU time so far (tests replace it to drive the saturation gate).</summary>
    internal Func<TimeSpan> ProcessCpuTime { get; init; } = static () => Environment.CpuUsage.TotalTime;
    /// <summary>The span over which a transfer thread measures the process's CPU use. 10 ms.</summary>
    internal TimeSpan BusyWindow { get; init; } = TimeSpan.FromMilliseconds(10);
    /// <summary>--max-request-body-bytes: largest accepted request body. Default 16 MiB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 16 * 1024 * 1024;
    /// <summary>--max-response-buffer-bytes: largest upstream body buffered for the json envelope. Default 64 MiB.</summary>
    public long MaxResponseBufferBytes { get; init; } = 64 * 1024 * 1024;
    /// <summary>--max-response-header-count: most header lines one upstream response head may hold. Default 1000.</summary>
    public int MaxResponseHeaderCount { get; init; } = DefaultMaxResponseHeaderCount;
    /// <summary>--max-response-header-bytes: most bytes one upstream response head may hold. Default 256 KiB.</summary>
    public long MaxResponseHeaderBytes { get; init; } = DefaultMaxResponseHeaderBytes;
    internal const int DefaultMaxResponseHeaderCount = 1000;
    internal const long DefaultMaxResponseHeaderBytes = 256 * 1024;
    /// <summary>--default-timeout-secs: transfer timeout of a sync request without `timeout`. Default 30.</summary>
    public int DefaultTimeoutSecs { get; init; } = 30;
    /// <summary>--default-async-timeout-secs: transfer timeout of an async job without `timeout`. Default 300.</summary>
    public int DefaultAsyncTimeoutSecs { get; init; } = 300;
    /// <summary>--max-sync-wait-secs: how long a sync call waits for the upstream's response head before 408. Default 600.</summary>
    public int MaxSyncWaitSecs { get; init; } = 600;
    /// <summary>--max-concurrent-sync: sync requests and channel streams in flight together (REST beyond it: 503 QUEUE_FULL; channel: the stream waits). Default 1024.</summary>
    public int MaxConcurrentSync { get; init; } = 1024;
    /// <summary>
    /// --redirect-strip-header: glob patterns (case-insensitive, `*` any run) of caller header names dropped
    /// when a redirect changes scheme, host or port, on top of Cookie, Authorization and Proxy-Authorization
    /// (always dropped, with the `cookie` field). Default `*-Key`, `*-Token`, `*-Secret`, `*Auth*`.
    /// </summary>
    public IReadOnlyList<string> RedirectStripHeaders { get; init; } = DefaultRedirectStripHeaders;
    internal static readonly string[] DefaultRedirectStripHeaders = ["*-Key", "*-Token", "*-Secret", "*Auth*"];
    /// <summary>Input limits (URL length, headers, JSON depth, retries, --max-timeout-secs).</summary>
    public RequestLimits Limits { get; init; } = RequestLimits.Default;
    /// <summary>The SSRF policy (--allow-cidr, --deny-cidr, --allow-private-networks, --resolve, own listen endpoints).</summary>
    public SsrfOptions Ssrf { get; init; } = new();
    /// <summary>--upstream-proxy: the outbound proxy every transfer goes through, or null (default: none; proxy
    /// environment variables are always ignored).</summary>
    public string? UpstreamProxy { get; init; }
    /// <summary>The parsed --upstream-proxy (its host resolved once at start).</summary>
    internal Engine.UpstreamProxy? Proxy { get; init; }
    /// <summary>User-Agent sent when the request gives none (docs/api.md D6).</summary>
    public string DefaultUserAgent { get; init; } = "hoody-curl/" + Version;

    public static string Version =>
        typeof(RequestsOptions).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.0.0";

    internal static IReadOnlyList<IPEndPoint> NoEndpoints { get; } = [];
}
