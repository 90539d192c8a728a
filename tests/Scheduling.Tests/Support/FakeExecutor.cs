// An IRequestExecutor whose pre-check refuses hosts named "blocked.test" with 403 SSRF_BLOCKED; it
// never runs a transfer (the scheduler hands requests to the job service, not to the engine).
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Scheduling.Tests.Support;

internal sealed class FakeExecutor : IRequestExecutor
{
    public ApiError? Precheck(CurlRequest request) =>
        request.Url.Contains("blocked.test", StringComparison.Ordinal) ? new ApiError(403, ErrorCodes.SsrfBlocked, "blocked") : null;

    public Task<UpstreamResponse> SendAsync(CurlRequest request, ExecutionOptions options, CancellationToken cancellationToken) =>
        throw new NotSupportedException();
}
