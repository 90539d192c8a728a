// Runs one request for the REST doors: reads and validates the input (JSON body or GET-bridge
// query), hands async requests to the jobs module, and answers sync ones in transparent (streamed)
// or json (envelope) mode, or, with `save: true`, streams the body into storage and answers the
// json envelope describing the saved file. A 2xx text/event-stream is promoted to the SSE passthrough
// (SsePassthrough) whatever `response` says.
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Engine;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;
using HoodyCurl.Sessions;
using HoodyCurl.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using HoodyCurl.Kernel.Http;

namespace HoodyCurl.Requests.Endpoints;

internal sealed class SyncRequestHandler(
    IRequestExecutor executor, RequestsOptions options, EngineMetrics metrics, ISessionStore sessions, IFileStore files,
    IServiceProvider services, SsePassthrough sse, HoodyCurl.Kernel.Memory.BufferBudget budget, ISyncLimiter limiter,
    Microsoft.Extensions.Logging.ILogger<SyncRequestHandler> logger) : IRequestDispatcher
{

    public async Task HandlePostAsync(HttpContext context)
    {
        try
        {
            CurlRequest request;
            try
            {
                var body = await RequestBody.ReadAsync(context, options.MaxRequestBodyBytes).ConfigureAwait(false);
                if (body.Length == 0) throw new ApiErrorException(ApiError.Validation("request body is required: a JSON CurlRequest object"));
                request = CurlRequestJson.Parse(body, options.Limits);
            }
            catch (ApiErrorException e)
            {
                throw Rejected(context, "rest", e);
            }
            await DispatchAsync(context, request, ResponseMode.Transparent, "rest").ConfigureAwait(false);
        }
        catch (ApiErrorException e)
        {
            await e.Error.WriteAsync(context).ConfigureAwait(false);
        }
    }

    public async Task HandleGetAsync(HttpContext context)
    {
        try
        {
            CurlRequest request;
            try
            {
                var qs = context.Request.QueryString.Value;
                if (qs is not null && qs.Length > options.Limits.MaxUrlLength * 4 + 65536)
                    throw new ApiErrorException(new ApiError(414, "URI_TOO_LONG", "the query string is too long"));
                request = GetBridgeQuery.Parse(qs, options.Limits);
            }
            catch (ApiErrorException e)
            {
                throw Rejected(context, "bridge", e);
            }
            // HEAD on the bridge asks the upstream for its head only, unless the query names another method.
            if (HttpMethods.IsHead(context.Request.Method) && request.Method is null) request = request with { Method = "HEAD" };
            await DispatchAsync(context, request, ResponseMode.Json, "bridge").ConfigureAwait(false);
        }
        catch (ApiErrorException e)
        {
            await e.Error.WriteAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>A request refused before any transfer (bad JSON, bad field, too large): logged and counted as outcome="invalid".</summary>
    private ApiErrorException Rejected(HttpContext context, string door, ApiErrorException e)
    {
        metrics.Requests.WithLabels(door, "invalid").Inc();
        Log.RequestRejected(logger, RequestIds.Of(context), door, e.Error.Code, e.Error.Status);
        return e;
    }

    async Task<DispatchResult> IRequestDispatcher.DispatchAsync(HttpContext context, CurlRequest request, ResponseMode defaultMode, string door)
    {
        try
        {
            return new DispatchResult(await DispatchAsync(context, request, defaultMode, door).ConfigureAwait(false), null);
        }
        catch (ApiErrorException e)
        {
            await e.Error.WriteAsync(context).ConfigureAwait(false);
            return new DispatchResult(null, e.Error);
        }
    }

    /// <summary>Runs the request and answers it; returns the job id for async requests, null for sync ones.</summary>
    private async Task<string?> DispatchAsync(HttpContext context, CurlRequest request, ResponseMode defaultMode, string door)
    {
        if (request.Mode == ExecutionMode.Async)
        {
            if (executor.Precheck(request) is { } refused) throw new ApiErrorException(refused);
            // A tombstoned session is refused now (404), not when the job runs (docs/api.md (Sessions)).
            if (request.SessionId is { } sessionId && sessions.CheckUsable(sessionId) is { } gone) throw new ApiErrorException(gone);
            var submitter = services.GetService<IAsyncJobSubmitter>()
                ?? throw new ApiErrorException(ApiError.Validation("mode 'async' needs the jobs module, which this build does not include"));
            var jobId = await submitter.SubmitAsync(request, context.RequestAborted).ConfigureAwait(false);
            await AsyncAccepted.WriteAsync(context, jobId).ConfigureAwait(false);
            return jobId;
        }

        // The process-wide cap, shared with the channel's streams (ISyncLimiter); REST does not queue: 503.
        using (var permit = limiter.TryEnter())
        {
            if (permit is null)
            {
                metrics.SyncRejected.Inc();
                throw new ApiErrorException(new ApiError(503, ErrorCodes.QueueFull,
                    $"too many sync requests in flight (the limit is {options.MaxConcurrentSync}); retry later or use mode=async") { RetryAfterSeconds = 5 });
            }
            await RunSyncAsync(context, request, request.Response ?? defaultMode, door).ConfigureAwait(false);
        }
        return null;
    }

    private async Task RunSyncAsync(HttpContext context, CurlRequest request, ResponseMode mode, string door)
    {
        var requestId = RequestIds.Of(context); // the caller's valid X-Request-Id, else a new UUID
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        wait.CancelAfter(TimeSpan.FromSeconds(options.MaxSyncWaitSecs));
        UpstreamResponse response;
        try
        {
            response = await executor.SendAsync(request, new ExecutionOptions { RequestId = requestId, Door = door }, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            throw new ApiErrorException(WaitLimit());
        }
        catch (OperationCanceledException)
        {
            return; // the caller went away; the transfer was aborted
        }

        await using (response.ConfigureAwait(false))
        {
            if (request.Save == true)
            {
                await SaveAsync(context, request, response, requestId, wait.Token).ConfigureAwait(false);
            }
            else if (sse.Applies(request, response))
            {
                wait.CancelAfter(Timeout.InfiniteTimeSpan); // a promoted stream is capped by --sse-max-duration-secs instead
                await sse.RelayAsync(context, response, requestId).ConfigureAwait(false);
            }
            else if (mode == ResponseMode.Transparent)
            {
                wait.CancelAfter(Timeout.InfiniteTimeSpan); // streaming: the wait limit covers the head only
                await TransparentRelay.WriteAsync(context, response, requestId, request.EffectiveMethod == "HEAD").ConfigureAwait(false);
            }
            else
            {
                await JsonEnvelope.WriteAsync(context, response, requestId, options.MaxResponseBufferBytes, budget, wait.Token, WaitLimit).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// `save: true` on a sync request: the body streams into storage under the request id (a storage-only
    /// UUID, docs/api.md (Storage)) and the answer is always the json envelope, whatever `response` says, with
    /// `job_id` = that id, `body` = "" and `saved: {id, path, paths, size}`. The sync wait limit covers the
    /// whole body. Any failure (transfer, max_filesize, disk) leaves no file behind.
    /// </summary>
    private async Task SaveAsync(HttpContext context, CurlRequest request, UpstreamResponse response, string requestId, CancellationToken waitToken)
    {
        StoredFile saved;
        try
        {
            saved = await files.SaveAsync(requestId, request.SavePath, request.Url, response.Body, request.MaxFilesize, waitToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            response.Abort();
            throw new ApiErrorException(WaitLimit());
        }
        catch (OperationCanceledException)
        {
            response.Abort();
            return; // the caller went away
        }
        catch (ApiErrorException)
        {
            response.Abort(); // the transfer's own error (from the pipe), or storage's; the file is gone either way
            throw;
        }
        var result = await response.Completion.ConfigureAwait(false);
        if (result.Error is { } transferError) throw new ApiErrorException(transferError);

        var output = JsonEnvelope.Write(response, result, [], saved.Id, w =>
        {
            w.WriteStartObject("saved");
            w.WriteString("id", saved.Id);
            w.WriteString("path", saved.Paths[0]);
            w.WriteStartArray("paths");
            foreach (var path in saved.Paths) w.WriteStringValue(path);
            w.WriteEndArray();
            w.WriteNumber("size", saved.Size);
            w.WriteEndObject();
        });
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = output.WrittenCount;
        await context.Response.Body.WriteAsync(output.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    private ApiError WaitLimit() => new(408, ErrorCodes.Timeout,
        $"the sync call waited longer than --max-sync-wait-secs ({options.MaxSyncWaitSecs}s); raise the limit or use mode=async");
}
