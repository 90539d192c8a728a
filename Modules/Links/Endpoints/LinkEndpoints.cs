// The /api/v1/curl/links routes (create, list, get, revoke, history) and the /l/<token> door. Handlers
// are plain RequestDelegates writing the source-generated views of LinksJson.cs: no reflection, nothing for the trimmer.
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Http;
using HoodyCurl.Requests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace HoodyCurl.Links.Endpoints;

public static class LinkEndpoints
{
    public const string Prefix = "/api/v1/curl/links";

    internal static readonly ApiError NotFound = ApiError.NotFound(LinkErrors.LinkNotFound, "Link not found");

    private static readonly ApiError StorageError = new(500, ErrorCodes.StorageError, "Failed to read or write link data");

    public static IEndpointRouteBuilder MapLinks(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix);
        group.MapPost("", Guard(CreateAsync));
        group.MapGet("", Guard(ListAsync));
        group.MapGet("/{id}", Guard(GetAsync));
        group.MapDelete("/{id}", Guard(RevokeAsync));
        group.MapGet("/{id}/history", Guard(HistoryAsync));
        // Every method and every path under /l/ comes here, so no other handler (the 404 fallback
        // echoes the path) ever sees a token.
        endpoints.Map("/l/{**token}", LinkDoor.OpenAsync);
        return endpoints;
    }

    private static async Task CreateAsync(HttpContext context)
    {
        var requests = context.RequestServices.GetRequiredService<RequestsOptions>();
        var service = Service(context);
        using var document = await RequestBody.ReadJsonAsync(context, requests.MaxRequestBodyBytes, requests.Limits.MaxJsonDepth).ConfigureAwait(false);
        LinkDraft draft;
        try
        {
            draft = LinkJson.ParseCreate(document.RootElement, requests.Limits, service.Options);
        }
        catch (InvalidOperationException)
        {
            // Reading a string with invalid UTF-8 or a lone surrogate escape throws here.
            throw new ApiErrorException(ApiError.Validation("request body has a string that is not valid Unicode"));
        }
        var created = service.Create(draft);
        await JsonResponse.WriteAsync(context, StatusCodes.Status201Created,
            w => LinkJson.Write(w, created.Link, service.Now, created)).ConfigureAwait(false);
    }

    private static Task ListAsync(HttpContext context)
    {
        var (page, limit) = Paging.Read(context.Request.Query);
        var service = Service(context);
        var result = service.List(page, limit);
        var now = service.Now;
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (var item in result.Items) LinkJson.Write(w, item, now);
            w.WriteEndArray();
            Paging.WriteTail(w, result.Total, page, limit, result.Items.Count);
            w.WriteEndObject();
        });
    }

    private static Task GetAsync(HttpContext context)
    {
        var service = Service(context);
        var link = service.Get(Id(context)) ?? throw new ApiErrorException(NotFound);
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w => LinkJson.Write(w, link, service.Now));
    }

    private static Task RevokeAsync(HttpContext context)
    {
        var id = Id(context);
        if (!Service(context).Revoke(id)) throw new ApiErrorException(NotFound);
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new LinkRevokedView("Link revoked", id), LinksJsonContext.Default.LinkRevokedView);
    }

    private static Task HistoryAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var after = QueryValues.Integer(query, "after", min: 0) ?? 0;
        var (_, limit) = Paging.Read(query);
        var history = Service(context).History(Id(context), after, limit) ?? throw new ApiErrorException(NotFound);
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (var e in history.Items) LinkJson.WriteHistory(w, e);
            w.WriteEndArray();
            Paging.WriteTail(w, history.Total, 1, limit, history.Items.Count);
            w.WriteEndObject();
        });
    }

    internal static LinkService Service(HttpContext context) => context.RequestServices.GetRequiredService<LinkService>();

    /// <summary>The {id} route value, percent-decoded (docs/api.md (Conventions)).</summary>
    private static string Id(HttpContext context) => Uri.UnescapeDataString(context.Request.RouteValues["id"] as string ?? "");

    private static RequestDelegate Guard(Func<HttpContext, Task> handler) => EndpointGuard.Wrap(handler, StorageError, "HoodyCurl.Links");
}

/// <summary>The links module's error codes (documented in the README).</summary>
public static class LinkErrors
{
    public const string LinkNotFound = "LINK_NOT_FOUND";
    public const string LinkExpired = "LINK_EXPIRED";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
}
