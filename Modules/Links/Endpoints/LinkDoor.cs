// The /l/<token> door: opening a link runs its stored request through the same dispatcher as
// /request (SSRF guard, sessions, save, response mode as stored, async jobs).
//
//   1. token -> live link (constant-time hash compare), else 404 LINK_NOT_FOUND, the same answer for
//      a revoked link as for one that never existed;
//   2. the opener's method must be one of the link's `methods` (405 with Allow);
//   3. expired or used up -> 410 LINK_EXPIRED;
//   4. declared params from the query string -> the request (400 naming the parameter), the body when
//      forward_body (413 beyond --max-request-body-bytes);
//   5. claim one use and open the history entry in one durable commit (a lost race is 404/410 as above);
//   6. dispatch, counting the bytes sent back; complete the history entry.
// Nothing here writes the path, the token or the request to a log, a metric label or an answer.
using System.Diagnostics;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Http;
using HoodyCurl.Requests;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Links.Endpoints;

internal static class LinkDoor
{
    public static async Task OpenAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var service = services.GetRequiredService<LinkService>();
        var metrics = services.GetRequiredService<LinkMetrics>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("HoodyCurl.Links");
        var method = context.Request.Method;
        LinkRecord? link = null;
        try
        {
            var token = context.Request.RouteValues["token"] as string ?? "";
            link = service.Find(token);
            if (link is null)
            {
                metrics.Opened(LinkMetrics.NotFound);
                Log.Unknown(logger, method);
                await LinkEndpoints.NotFound.WriteAsync(context).ConfigureAwait(false);
                return;
            }
            await OpenLinkAsync(context, service, metrics, logger, link, method, started).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the opener went away
        }
        catch (Exception e)
        {
            // Never the host's handler: it would log the request path, which holds the token.
            Log.OpenFailed(logger, link?.Id ?? "-", e);
            await ApiError.Internal("internal error").WriteAsync(context).ConfigureAwait(false);
        }
    }

    private static async Task OpenLinkAsync(HttpContext context, LinkService service, LinkMetrics metrics, ILogger logger,
        LinkRecord link, string method, long started)
    {
        var requests = context.RequestServices.GetRequiredService<RequestsOptions>();
        CurlRequest request;
        byte[]? forwarded = null;
        try
        {
            if (!link.Methods.Contains(method, StringComparer.Ordinal))
            {
                context.Response.Headers.Allow = string.Join(", ", link.Methods);
                throw Refusal(LinkMetrics.MethodNotAllowed, new ApiError(405, LinkErrors.MethodNotAllowed,
                    $"this link answers {string.Join(", ", link.Methods)} only"));
            }
            if (Gone(link, service.Now) is { } gone) throw gone;
            try
            {
                var query = context.Request.Query;
                request = LinkParams.Apply(link.Request, link.Params,
                    name => query.TryGetValue(name, out var values) ? values.ToArray() : null,
                    requests.Limits, service.Options.PatternTimeout);
            }
            catch (ApiErrorException e)
            {
                throw Refusal(LinkMetrics.InvalidParams, e.Error);
            }
            if (link.ForwardBody)
            {
                try
                {
                    forwarded = (await RequestBody.ReadAsync(context, requests.MaxRequestBodyBytes).ConfigureAwait(false)).ToArray();
                }
                catch (ApiErrorException e)
                {
                    throw Refusal(e.Error.Status == 413 ? LinkMetrics.TooLarge : LinkMetrics.InvalidParams, e.Error);
                }
                // A bodyless GET/HEAD opening of a relay link sends the stored request as it is.
                if (forwarded.Length > 0 || method is not ("GET" or "HEAD"))
                    request = WithBody(request, forwarded, context.Request.ContentType, requests.Limits);
            }
        }
        catch (RefusalException r)
        {
            metrics.Opened(r.Outcome);
            Log.Refused(logger, link.Id, method, r.Outcome);
            await r.Error.WriteAsync(context).ConfigureAwait(false);
            return;
        }

        var caller = context.Connection.RemoteIpAddress?.ToString();
        if (service.Claim(link, caller, method) is not { } entry)
        {
            // Revoked, expired or used up between the read and the claim: answer as if seen before.
            var now = service.Get(link.Id);
            var refusal = now is null || now.RevokedAt is not null
                ? Refusal(LinkMetrics.NotFound, LinkEndpoints.NotFound)
                : Gone(now, service.Now) ?? Refusal(LinkMetrics.UsedUp, Expired("this link has been used up"));
            metrics.Opened(refusal.Outcome);
            Log.Refused(logger, link.Id, method, refusal.Outcome);
            await refusal.Error.WriteAsync(context).ConfigureAwait(false);
            return;
        }

        var counting = new CountingResponseBody(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>());
        context.Features.Set<IHttpResponseBodyFeature>(counting);
        DispatchResult? result = null;
        try
        {
            var dispatcher = context.RequestServices.GetRequiredService<IRequestDispatcher>();
            result = await dispatcher.DispatchAsync(context, request, ResponseMode.Transparent, "link").ConfigureAwait(false);
        }
        finally
        {
            var status = context.RequestAborted.IsCancellationRequested && result is null ? 499 : context.Response.StatusCode;
            var error = result is null ? ErrorCodes.Internal : result.Error?.Code;
            var duration = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            service.Finish(entry, status, result?.JobId, counting.Bytes, forwarded?.Length, duration, error);
            var outcome = error is not null ? LinkMetrics.Failed : result?.JobId is not null ? LinkMetrics.Queued : LinkMetrics.Ran;
            metrics.Opened(outcome);
            Log.Opened(logger, link.Id, method, outcome, status, result?.JobId ?? "-", counting.Bytes, duration);
        }
    }

    /// <summary>The forwarded body as the request's binary body, with the opener's Content-Type unless the link stores one.</summary>
    private static CurlRequest WithBody(CurlRequest request, byte[] body, string? contentType, RequestLimits limits)
    {
        request = request with { DataBytes = body, Data = null, Json = null, Form = null };
        if (contentType is null || request.Headers?.Any(h => h.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) == true)
            return request;
        if (HeaderRules.Check("Content-Type", contentType, limits.MaxHeaderBytes) is { } problem)
            throw Refusal(LinkMetrics.InvalidParams, ApiError.Validation(problem));
        return request with { Headers = [.. request.Headers ?? [], new HeaderEntry("Content-Type", contentType)] };
    }

    private static RefusalException? Gone(LinkRecord link, DateTimeOffset now) => link.State(now) switch
    {
        "expired" => Refusal(LinkMetrics.Expired, Expired("this link has expired")),
        "used_up" => Refusal(LinkMetrics.UsedUp, Expired("this link has been used up")),
        "revoked" => Refusal(LinkMetrics.NotFound, LinkEndpoints.NotFound),
        _ => null,
    };

    private static ApiError Expired(string message) => new(410, LinkErrors.LinkExpired, message);

    private static RefusalException Refusal(string outcome, ApiError error) => new(outcome, error);

    private sealed class RefusalException(string outcome, ApiError error) : Exception(error.Message)
    {
        public string Outcome { get; } = outcome;
        public ApiError Error { get; } = error;
    }
}
