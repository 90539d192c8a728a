// `mode: "async"` arrives at the Requests endpoints, but jobs live above the engine (DESIGN.md:
// Requests <- Jobs). The Jobs module implements this interface and registers it; Requests finds it
// in DI. Without it (no jobs module), async mode answers 400.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests;

public interface IAsyncJobSubmitter
{
    /// <summary>
    /// Stores the request as a pending job and queues it. Returns the new job id, or throws
    /// <see cref="ApiErrorException"/> (503 QUEUE_FULL with Retry-After, 404 tombstoned session, …).
    /// </summary>
    Task<string> SubmitAsync(CurlRequest request, CancellationToken cancellationToken);
}
