// The /api/v1/curl/jobs routes (docs/api.md: Jobs; D3, D10, D15, E1–E5). Handlers are
// plain RequestDelegates writing JSON with Utf8JsonWriter: no reflection, nothing for the trimmer.
using System.Buffers;
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Memory;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using HoodyCurl.Kernel.Http;

namespace HoodyCurl.Jobs.Endpoints;

public static class JobsEndpoints
{
    private static readonly byte[] CancelBody = "{\"statusCode\":200,\"message\":\"Job cancellation requested\"}"u8.ToArray();

    internal static readonly ApiError NotFound = ApiError.NotFound(ErrorCodes.JobNotFound, "Job not found");

    private static readonly ApiError StorageError = new(500, ErrorCodes.StorageError, "Failed to read job data");

    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/curl/jobs");
        group.MapGet("", Guard(ListAsync));
        group.MapGet("/{id}", Guard(GetAsync));
        group.MapGet("/{id}/result", Guard(JobResult.WriteAsync));
        group.MapGet("/{id}/events", Guard(EventsAsync));
        group.MapDelete("/{id}", Guard(CancelAsync));
        group.MapPost("/{id}/cancel", Guard(CancelAsync));
        group.MapPost("/{id}/rerun", Guard(RerunAsync));
        return group;
    }

    private static Task ListAsync(HttpContext context)
    {
        var service = Service(context);
        var query = context.Request.Query;
        var (page, limit) = Paging.Read(query);
        var statuses = QueryValues.List(query, "status");
        foreach (var s in statuses)
        {
            if (!JobStatus.IsKnown(s))
                throw new ApiErrorException(ApiError.Validation(
                    $"query parameter 'status' must be one of {string.Join(", ", JobStatus.All)}, got '{ErrorText.Printable(s)}'"));
        }
        var (total, items) = service.ListLazily(new JobQuery
        {
            Page = page,
            Limit = limit,
            Statuses = statuses,
            Name = QueryValues.Single(query, "name"),
            ScheduleId = QueryValues.Single(query, "schedule_id"),
        });
        // Streamed from batched reads: without `limit` the list is every job in the table.
        return JsonResponse.StreamAsync(context, StatusCodes.Status200OK, async (w, flush) =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            var returned = 0;
            foreach (var item in items)
            {
                JobJson.WriteSummary(w, item);
                returned++;
                await flush().ConfigureAwait(false);
            }
            w.WriteEndArray();
            Paging.WriteTail(w, total, page, limit, returned);
            w.WriteEndObject();
        });
    }

    private static async Task GetAsync(HttpContext context)
    {
        var service = Service(context);
        var id = Id(context);
        var query = context.Request.Query;
        var wait = QueryValues.Single(query, "wait");
        if (wait is not null && wait != "done")
            throw new ApiErrorException(ApiError.Validation($"query parameter 'wait' must be 'done', got '{ErrorText.Printable(wait)}'"));
        var timeoutMs = QueryValues.Integer(query, "timeout_ms", min: 0) ?? 0;
        JobRecord? job;
        if (wait is null || timeoutMs == 0)
        {
            job = service.Get(id);
        }
        else
        {
            var timeout = TimeSpan.FromMilliseconds(Math.Min(timeoutMs, service.Options.MaxWaitMs));
            try
            {
                job = await service.WaitAsync(id, timeout, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                return; // the caller left
            }
        }
        if (job is null) throw new ApiErrorException(NotFound);
        await WriteJobAsync(context, service, job, StatusCodes.Status200OK).ConfigureAwait(false);
    }

    private static Task EventsAsync(HttpContext context)
    {
        var service = Service(context);
        var id = Id(context);
        var query = context.Request.Query;
        var after = QueryValues.Integer(query, "after", min: 0) ?? 0;
        var (_, limit) = Paging.Read(query);
        if (service.Get(id) is null) throw new ApiErrorException(NotFound);
        var events = service.Events.ReadAfter(after, id, limit ?? int.MaxValue);
        var total = limit is null ? events.Count : service.Events.CountAfter(id, after);
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (var e in events) JobJson.WriteEvent(w, e);
            w.WriteEndArray();
            Paging.WriteTail(w, total, 1, limit, events.Count);
            w.WriteEndObject();
        });
    }

    private static async Task CancelAsync(HttpContext context)
    {
        var service = Service(context);
        if (service.Cancel(Id(context)) == CancelResult.NotFound) throw new ApiErrorException(NotFound);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = CancelBody.Length;
        await response.Body.WriteAsync(CancelBody, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task RerunAsync(HttpContext context)
    {
        var service = Service(context);
        var job = await service.RerunAsync(Id(context), context.RequestAborted).ConfigureAwait(false)
            ?? throw new ApiErrorException(NotFound);
        await WriteJobAsync(context, service, job, StatusCodes.Status202Accepted).ConfigureAwait(false);
    }

    private static async Task WriteJobAsync(HttpContext context, JobService service, JobRecord job, int status)
    {
        // An inline body is held twice: as read from its file, and in the answer, where each byte is a JSON
        // number of up to four characters ("255,"). Both are reserved from --max-buffered-bytes first;
        // when the budget is spent the caller gets 503 QUEUE_FULL with Retry-After.
        using var lease = context.RequestServices.GetRequiredService<BufferBudget>().OpenLease();
        if (job.Response is { BodyBytes: > 0 } stored && stored.BodyBytes <= service.Options.InlineBodyBytes)
            lease.Grow(stored.BodyBytes * 5 + 1024);
        var inline = service.InlineBody(job);
        await JsonResponse.WriteAsync(context, status, w => JobJson.WriteJob(w, job, inline)).ConfigureAwait(false);
    }

    internal static JobService Service(HttpContext context) => context.RequestServices.GetRequiredService<JobService>();

    /// <summary>The {id} route value, percent-decoded (docs/api.md (Conventions)).</summary>
    internal static string Id(HttpContext context) =>
        Uri.UnescapeDataString(context.Request.RouteValues["id"] as string ?? "");

    /// <summary>Turns an ApiErrorException into the contract's error body (docs/api.md D2).</summary>
    private static RequestDelegate Guard(Func<HttpContext, Task> handler) => EndpointGuard.Wrap(handler, StorageError, "HoodyCurl.Jobs");
}
