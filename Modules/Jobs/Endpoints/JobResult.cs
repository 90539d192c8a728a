// GET /api/v1/curl/jobs/{id}/result (rest.md §4.3, decisions D5, D15): the stored upstream response
// in transparent form — its status, its headers (minus hop-by-hop ones; Content-Length recomputed;
// Content-Encoding dropped when libcurl decoded the body) and the whole body streamed from the file,
// with single-range `Range` support on 200 responses.
using System.Globalization;
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;

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

    /// <summary>Headers that describe one connection or one framing, never relayed (RFC 9110 §7.6.1).</summary>
    private static readonly HashSet<string> Dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "content-length", "accept-ranges", "content-range",
    };

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
            if (Dropped.Contains(h.Name)) continue;
            if (stored.BodyDecoded && h.Name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase)) continue;
            response.Headers.Append(h.Name, h.Value);
        }

        if (response.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified) return;

        long offset = 0, count = length;
        if (response.StatusCode == StatusCodes.Status200OK)
        {
            response.Headers.AcceptRanges = "bytes";
            switch (Range(context.Request, length, out var from, out var to))
            {
                case RangeKind.Satisfiable:
                    response.StatusCode = StatusCodes.Status206PartialContent;
                    response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {from}-{to}/{length}");
                    offset = from;
                    count = to - from + 1;
                    break;
                case RangeKind.Unsatisfiable:
                    response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{length}");
                    response.Headers.ContentType = default;
                    response.ContentLength = 0;
                    return;
            }
        }
        response.ContentLength = count;
        if (count == 0 || HttpMethods.IsHead(context.Request.Method)) return;
        try
        {
            body.Position = offset;
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

    private enum RangeKind { None, Satisfiable, Unsatisfiable }

    /// <summary>
    /// One `bytes=` range (RFC 9110 §14.1.2): `a-b`, `a-` or `-n`. Several ranges, another unit, a
    /// malformed header or a non-matching If-Range mean "whole body".
    /// </summary>
    private static RangeKind Range(HttpRequest request, long length, out long from, out long to)
    {
        from = to = 0;
        var header = request.Headers.Range.ToString();
        if (string.IsNullOrEmpty(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return RangeKind.None;
        if (!string.IsNullOrEmpty(request.Headers.IfRange.ToString())) return RangeKind.None; // no validators we can vouch for
        var spec = header.AsSpan(6).Trim();
        if (spec.Contains(',')) return RangeKind.None;
        var dash = spec.IndexOf('-');
        if (dash < 0) return RangeKind.None;
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.IsEmpty)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix)) return RangeKind.None;
            if (suffix == 0 || length == 0) return RangeKind.Unsatisfiable;
            from = Math.Max(0, length - suffix);
            to = length - 1;
            return RangeKind.Satisfiable;
        }
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out from)) return RangeKind.None;
        if (last.IsEmpty) to = length - 1;
        else if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out to) || to < from) return RangeKind.None;
        if (from >= length) return RangeKind.Unsatisfiable;
        to = Math.Min(to, length - 1);
        return RangeKind.Satisfiable;
    }
}
