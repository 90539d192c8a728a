// GET /api/v1/curl/sse (alias /sse) and GET /api/v1/curl/ws (alias /ws): live job events
// (docs/api.md (Events); docs/api.md E4 for replay), and GET /api/v1/curl/channel (docs/api.md (Channel)).
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace HoodyCurl.Realtime.Endpoints;

public static class RealtimeEndpoints
{
    private static readonly ApiError StorageError = new(500, ErrorCodes.StorageError, "the job event log could not be read");

    public static IEndpointRouteBuilder MapRealtime(this IEndpointRouteBuilder endpoints)
    {
        foreach (var path in new[] { "/api/v1/curl/sse", "/sse" })
            endpoints.MapGet(path, EndpointGuard.Wrap(context => context.RequestServices.GetRequiredService<JobSseStream>().RunAsync(context), StorageError, "HoodyCurl.Realtime"));
        foreach (var path in new[] { "/api/v1/curl/ws", "/ws" })
            endpoints.MapGet(path, EndpointGuard.Wrap(context => context.RequestServices.GetRequiredService<JobWebSocketStream>().RunAsync(context), StorageError, "HoodyCurl.Realtime"));
        endpoints.MapGet("/api/v1/curl/channel", EndpointGuard.Wrap(context => context.RequestServices.GetRequiredService<Channel.ChannelEndpoint>().RunAsync(context),
            new ApiError(500, ErrorCodes.Internal, "the channel failed"), "HoodyCurl.Realtime"));
        return endpoints;
    }
}

/// <summary>The query both routes share: `job_id` filter and the replay start.</summary>
internal readonly record struct StreamQuery(string? JobId, long? After)
{
    /// <summary>
    /// Reads `job_id` and the replay start: the `Last-Event-ID` header (sent by an EventSource when it
    /// reconnects, so it is newer than the URL's) wins over `?after=N`; a header that is not a
    /// non-negative integer (another server's id) is ignored, a malformed `after` is 400.
    /// </summary>
    public static StreamQuery Read(HttpRequest request, bool useLastEventId)
    {
        var jobId = QueryValues.Single(request.Query, "job_id");
        long? after = QueryValues.Integer(request.Query, "after", min: 0);
        if (useLastEventId && request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } header
            && long.TryParse(header.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var lastId))
            after = lastId;
        return new StreamQuery(jobId, after);
    }
}
