using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Engine;

/// <summary>The 403 SSRF_BLOCKED error (docs/api.md, D5/D11 and Security), naming the address and the rule.</summary>
internal static class SsrfError
{
    public static ApiError Blocked(SsrfVerdict verdict) =>
        new(403, ErrorCodes.SsrfBlocked, "blocked by the SSRF guard: " + verdict.Describe());
}
