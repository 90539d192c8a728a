// The /api/v1/curl/sessions routes (docs/api.md: Sessions; D3, D13, D16). Handlers are plain
// RequestDelegates writing the source-generated shapes of SessionsJson.cs: no reflection, nothing for the trimmer.
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Json;
using HoodyCurl.Kernel.Time;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using HoodyCurl.Kernel.Http;

namespace HoodyCurl.Sessions.Endpoints;

public static class SessionsEndpoints
{
    private static readonly ApiError StorageError = new(500, ErrorCodes.StorageError, "Failed to read or write session data");

    public static RouteGroupBuilder MapSessions(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/curl/sessions");
        group.MapGet("", Guard(List));
        group.MapGet("/{id}", Guard(Get));
        group.MapGet("/{id}/cookies", Guard(Cookies));
        group.MapDelete("/{id}", Guard(Delete));
        return group;
    }

    private static Task List(HttpContext context)
    {
        var (page, limit) = Paging.Read(context.Request.Query);
        var (total, items) = Store(context).ListLazily(page, limit);
        // Streamed: without `limit` the list is every session with every cookie (81 MB was seen).
        return JsonResponse.StreamAsync(context, StatusCodes.Status200OK, async (w, flush) =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            var returned = 0;
            foreach (var session in items)
            {
                WriteSession(w, session);
                returned++;
                await flush().ConfigureAwait(false);
            }
            w.WriteEndArray();
            Paging.WriteTail(w, total, page, limit, returned);
            w.WriteEndObject();
        });
    }

    private static Task Get(HttpContext context)
    {
        var session = Find(context);
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w => WriteSession(w, session));
    }

    private static Task Cookies(HttpContext context)
    {
        var session = Find(context);
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, 
            w => StringPairsConverter.WriteObject(w, CookieJar.Snapshot(session.Cookies)));
    }

    private static Task Delete(HttpContext context)
    {
        var id = Id(context);
        switch (Store(context).Delete(id))
        {
            case DeleteOutcome.Tombstoned: throw new ApiErrorException(SessionStore.Tombstoned(id));
            case DeleteOutcome.NotFound: throw new ApiErrorException(SessionStore.NotFound(id));
        }
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new SessionDeletedView("Session deleted", id), SessionsJsonContext.Default.SessionDeletedView);
    }

    private static SessionRecord Find(HttpContext context)
    {
        var id = Id(context);
        return Store(context).Get(id, out var tombstoned)
            ?? throw new ApiErrorException(tombstoned ? SessionStore.Tombstoned(id) : SessionStore.NotFound(id));
    }

    /// <summary>The Session object of docs/api.md (Sessions) (scoped cookies also carry http_only and expires).</summary>
    internal static void WriteSession(Utf8JsonWriter w, SessionRecord session) => JsonSerializer.Serialize(w, new SessionView(
        session.Id, Rfc3339.Format(session.CreatedAt), Rfc3339.Format(session.LastUsed), CookieJar.Snapshot(session.Cookies),
        [.. session.Cookies.Select(c => new ScopedCookieView(c.Name, c.Value, c.Domain, c.Path, c.Secure, c.HostOnly, c.HttpOnly,
            c.Expires == 0 ? null : Rfc3339.Format(DateTimeOffset.FromUnixTimeSeconds(Math.Min(c.Expires, 253402300799)))))]),
        SessionsJsonContext.Default.SessionView);

    /// <summary>The {id} route value (routing has decoded it; a %2F left encoded fails the id rule).</summary>
    private static string Id(HttpContext context)
    {
        var id = context.Request.RouteValues["id"] as string ?? "";
        if (!SessionStore.IsValidId(id)) throw new ApiErrorException(SessionStore.InvalidId());
        return id;
    }

    private static SessionStore Store(HttpContext context) => context.RequestServices.GetRequiredService<SessionStore>();

    /// <summary>Turns an ApiErrorException into the contract's error body (docs/api.md D2); SQLite failures into 500.</summary>
    private static RequestDelegate Guard(Func<HttpContext, Task> handler) => EndpointGuard.Wrap(handler, StorageError, "HoodyCurl.Sessions");
}
