// The REST doors' way of running one parsed request and answering it on the caller's HTTP response,
// exactly as /request does (async -> 202 with the job, sync -> the stored response mode, save,
// sessions, the sync concurrency limit, errors in the contract's shape). Modules above the engine
// that own a door of their own (magic links) use it instead of copying the handler.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Requests;

public interface IRequestDispatcher
{
    /// <summary>
    /// Runs <paramref name="request"/> (already validated) and writes the answer to
    /// <paramref name="context"/>. <paramref name="defaultMode"/> applies when the request has no
    /// `response`; <paramref name="door"/> is the metrics label. Never throws an ApiErrorException:
    /// a refusal or failure is written as the error body and returned in <see cref="DispatchResult.Error"/>.
    /// </summary>
    Task<DispatchResult> DispatchAsync(HttpContext context, CurlRequest request, ResponseMode defaultMode, string door);
}

/// <summary>What a dispatch did: the async job it queued (null for sync), or the error it answered with.</summary>
public sealed record DispatchResult(string? JobId, ApiError? Error);
