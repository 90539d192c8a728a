// What every request goes through before and after its module's handler: its id (X-Request-Id on every
// answer, a caller's valid one kept), the in-flight count the shutdown reports, the contract's error shape
// for whatever a handler throws, and for the router's own verdicts: an unknown path is a JSON 404, a
// known path with the wrong method a JSON 405 with Allow. HEAD is answered wherever GET is.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Host;

internal sealed class RequestPipeline(ILogger log, FirstTraffic? firstTraffic = null)
{
    private long _inFlight;
    private readonly FirstTraffic _firstTraffic = firstTraffic ?? new FirstTraffic();

    /// <summary>Requests being answered now.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        RequestIds.Assign(context);
        _firstTraffic.Mark();
        Interlocked.Increment(ref _inFlight);
        try
        {
            try
            {
                await next(context);
            }
            catch (ApiErrorException e)
            {
                await e.Error.WriteAsync(context);
            }
            catch (BadHttpRequestException e)
            {
                // Kestrel's own verdicts on the request (slow or truncated body, bad framing): the
                // client's fault, answered in the contract's shape and never logged as a failure.
                var code = e.StatusCode == StatusCodes.Status408RequestTimeout ? ErrorCodes.Timeout : ErrorCodes.Validation;
                await new ApiError(e.StatusCode, code, "bad request: " + e.Message).WriteAsync(context);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "unhandled error on {Path}", context.Request.Path.Value);
                await ApiError.Internal("internal error").WriteAsync(context);
            }

            var response = context.Response;
            if (response.HasStarted) return;
            if (response.StatusCode == StatusCodes.Status405MethodNotAllowed)
            {
                var allow = response.Headers.Allow.ToString();
                await new ApiError(405, ErrorCodes.MethodNotAllowed,
                    $"{context.Request.Method} is not allowed on {context.Request.Path}; allowed: {allow}").WriteAsync(context);
            }
            else if (response.StatusCode == StatusCodes.Status404NotFound && context.GetEndpoint() is null)
            {
                await new ApiError(404, ErrorCodes.NotFound, $"no route for {context.Request.Method} {context.Request.Path}").WriteAsync(context);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Adds HEAD to every endpoint of <paramref name="routes"/> that answers GET (Kestrel sends no body for HEAD).</summary>
    public static void AnswerHeadWhereGet(IEndpointConventionBuilder routes) => routes.Finally(endpoint =>
    {
        for (var i = 0; i < endpoint.Metadata.Count; i++)
        {
            if (endpoint.Metadata[i] is HttpMethodMetadata methods && methods.HttpMethods.Contains(HttpMethods.Get)
                && !methods.HttpMethods.Contains(HttpMethods.Head))
            {
                endpoint.Metadata[i] = new HttpMethodMetadata([.. methods.HttpMethods, HttpMethods.Head], methods.AcceptCorsPreflight);
            }
        }
    });
}

/// <summary>
/// Whether a request reached the pipeline after the <see cref="MemoryTrimmer"/>'s start-up trim: armed by the trimmer,
/// tripped by the first request after that. Per request it costs one read (one write for the request that trips it).
/// </summary>
internal sealed class FirstTraffic
{
    private volatile bool _armed;
    private volatile bool _seen;

    /// <summary>Whether a request came since <see cref="Arm"/>.</summary>
    public bool SeenSinceArmed => _seen;

    public void Arm()
    {
        _seen = false;
        _armed = true;
    }

    public void Mark()
    {
        if (!_armed) return;
        _armed = false;
        _seen = true;
    }
}
