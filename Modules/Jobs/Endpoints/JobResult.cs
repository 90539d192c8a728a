// GET /api/v1/curl/jobs/{id}/result (docs/api.md: Jobs; D5, D15): the stored upstream response
// in transparent form — its status, its headers (minus hop-by-hop ones; Content-Length recomputed;
// Content-Encoding dropped when libcurl decoded the body) and the whole body streamed from the file;
// on 200 responses Range, If-Range and the preconditions are the framework's (as for storage downloads).
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace HoodyCurl.Jobs.Endpoints;

internal static class JobResult
{
    private static readonly ApiError NotReady = new(409, ErrorCodes.JobResultNotReady, "Job result not available yet");
    private static readonly ApiError Missing = new(500, ErrorCodes.StorageError, "Failed to retrieve job result");

    /// <summary>
    /// A failed or cancelled job will never have a result: a distinct 404 (not the 409 "not yet") tells a
    /// client to stop polling, with the job's status beside the message.
    /// </summary>
    private static ApiError NoResult(string status) =>
        new(404, ErrorCodes.JobHasNoResult, $"Job {status} without a result; it will never have one (stop polling)")
        {
            Extra = [new("status", status)],
        };

    /// <summary>Framing headers this answer recomputes (the hop-by-hop ones are the engine's list).</summary>
    private static bool IsFraming(string name) =>
        name.Equals("content-length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("accept-ranges", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-range", StringComparison.OrdinalIgnoreCase);

    public static async Task WriteAsync(HttpContext context)
    {
        var service = JobsEndpoints.Service(context);
        var job = service.Get(JobsEndpoints.Id(context)) ?? throw new ApiErrorException(JobsEndpoints.NotFound);
        if (job.Status is JobStatus.Failed or JobStatus.Cancelled) throw new ApiErrorException(NoResult(job.Status));
        if (job.Status != JobStatus.Completed || job.Response is not { } stored) throw new ApiErrorException(NotReady);

        FileStream body;
        try
        {
            body = service.Files.OpenBody(job.Id); // O_NOFOLLOW: a symlink planted there is refused
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ApiErrorException(Missing);
        }
        await using var _ = body.ConfigureAwait(false);
        var length = body.Length;

        var response = context.Response;
        response.StatusCode = stored.StatusCode is >= 200 and <= 599 ? stored.StatusCode : StatusCodes.Status502BadGateway;
        foreach (var h in stored.RawHeaders)
        {
            if (ResponseHeaders.IsHopByHop(h.Name) || IsFraming(h.Name)) continue;
            if (stored.BodyDecoded && h.Name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase)) continue;
            response.Headers.Append(h.Name, h.Value);
        }

        if (response.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified) return;

        if (response.StatusCode == StatusCodes.Status200OK)
        {
            // Ranges, If-Range and the other preconditions by the framework's file-result logic, as
            // storage downloads do: one implementation of RFC 9110 §13–14 for both. The stored body never
            // changes, so the upstream's ETag (or, without one, the job id) is a strong validator for it.
            var result = TypedResults.Stream(body, response.ContentType, fileDownloadName: null,
                lastModified: LastModified(stored), entityTag: EntityTag(job.Id, stored), enableRangeProcessing: true);
            try
            {
                await result.ExecuteAsync(context).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The caller went away mid-body.
            }
            return;
        }

        var count = length;
        response.ContentLength = count;
        if (count == 0 || HttpMethods.IsHead(context.Request.Method)) return;
        try
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                for (var left = count; left > 0;)
                {
                    var read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), context.RequestAborted).ConfigureAwait(false);
                    if (read == 0) break;
                    await response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted).ConfigureAwait(false);
                    left -= read;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away mid-body.
        }
    }

    /// <summary>The upstream's ETag when it sent a valid one, else a strong tag naming this job's result.</summary>
    private static EntityTagHeaderValue EntityTag(string jobId, StoredResponse stored)
    {
        foreach (var h in stored.RawHeaders)
            if (h.Name.Equals("etag", StringComparison.OrdinalIgnoreCase) && EntityTagHeaderValue.TryParse(h.Value, out var tag))
                return tag;
        return new EntityTagHeaderValue($"\"{jobId}\"");
    }

    /// <summary>The upstream's Last-Modified, when it sent a valid one.</summary>
    private static DateTimeOffset? LastModified(StoredResponse stored)
    {
        foreach (var h in stored.RawHeaders)
            if (h.Name.Equals("last-modified", StringComparison.OrdinalIgnoreCase)
                && HeaderUtilities.TryParseDate(h.Value, out var date))
                return date;
        return null;
    }
}
