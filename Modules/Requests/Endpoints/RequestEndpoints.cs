// POST and GET /api/v1/curl/request, with /curl as an alias of both (docs/api.md (Executing requests)).
using HoodyCurl.Requests.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace HoodyCurl.Requests.Endpoints;

public static class RequestEndpoints
{
    public static IEndpointRouteBuilder MapRequests(this IEndpointRouteBuilder endpoints)
    {
        // The handler is a singleton taken from the root provider on first use (not built while routes are mapped).
        // Through context.RequestServices every relayed request created and disposed a DI scope it never used:
        // ~2.4k of ~190k instructions per relayed 1 KiB request, plus two allocations (callgrind, issue 13).
        var services = endpoints.ServiceProvider;
        SyncRequestHandler? handler = null;
        SyncRequestHandler Handler() => handler ??= services.GetRequiredService<SyncRequestHandler>();
        foreach (var path in new[] { "/api/v1/curl/request", "/curl" })
        {
            endpoints.MapPost(path, context => Handler().HandlePostAsync(context));
            endpoints.MapMethods(path, GetAndHead, context => Handler().HandleGetAsync(context));
        }
        return endpoints;
    }

    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];
}
