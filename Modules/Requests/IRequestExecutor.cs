// The one executor every door calls: REST sync, async jobs, schedules and the channel. One validation
// path, one SSRF path, one metrics path.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests;

public interface IRequestExecutor
{
    /// <summary>
    /// Checks a parsed request against the engine's rules that do not need the network (URL form,
    /// scheme, SSRF pre-check of literal and --resolve'd addresses). Null when it may run.
    /// </summary>
    ApiError? Precheck(CurlRequest request);

    /// <summary>
    /// Runs the request (with its retries) until the final response head is available and returns it;
    /// the body then streams through <see cref="UpstreamResponse.Body"/>. Throws
    /// <see cref="ApiErrorException"/> when no response head could be had (SSRF denial 403, timeout
    /// 504, other libcurl failure 502, cancelled). Cancelling <paramref name="cancellationToken"/>
    /// before the head aborts the transfer; after the head, use <see cref="UpstreamResponse.Abort"/>.
    /// </summary>
    Task<UpstreamResponse> SendAsync(CurlRequest request, ExecutionOptions options, CancellationToken cancellationToken);
}

/// <summary>How one execution runs, beyond the request itself.</summary>
public sealed record ExecutionOptions
{
    /// <summary>Id for logs and saved-file paths (the job id, or the sync request id).</summary>
    public required string RequestId { get; init; }
    /// <summary>Which door: "rest", "bridge", "job", "schedule", "channel" (a metrics label).</summary>
    public string Door { get; init; } = "rest";
    /// <summary>True for async jobs: the default timeout is --default-async-timeout-secs.</summary>
    public bool IsAsync { get; init; }
    /// <summary>Cookies (Netscape cookie-file lines) loaded into libcurl's engine before the transfer.</summary>
    public IReadOnlyList<string>? LoadCookies { get; init; }
    /// <summary>Read the cookie engine back after the transfer into <see cref="TransferResult.Cookies"/>.</summary>
    public bool CaptureCookies { get; init; }
    /// <summary>Called with the attempt number (1, 2, …) as each attempt starts, so callers know how many were made even when all failed.</summary>
    public Action<int>? OnAttempt { get; init; }
    /// <summary>
    /// A request body streamed into libcurl's read callback instead of the request's own body fields: read as
    /// libcurl sends (the transfer pauses while the reader has nothing yet), never held whole by the engine.
    /// Such a request is not retried (the body cannot be replayed).
    /// </summary>
    public System.IO.Pipelines.PipeReader? UploadBody { get; init; }
    /// <summary>The length of <see cref="UploadBody"/> when known (Content-Length), else null (chunked).</summary>
    public long? UploadLength { get; init; }
    /// <summary>Called (on a transfer thread; keep it cheap, never block) with bytes received and expected total.</summary>
    public Action<long, long?>? OnProgress { get; init; }
}
