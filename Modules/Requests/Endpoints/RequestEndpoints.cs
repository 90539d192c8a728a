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
        foreach (var path in new[] { "/api/v1/curl/request", "/curl" })
        {
            endpoints.MapPost(path, context => Handler(context).HandlePostAsync(context));
            endpoints.MapMethods(path, GetAndHead, context => Handler(context).HandleGetAsync(context));
        }
        return endpoints;
    }

    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    private static SyncRequestHandler Handler(HttpContext context) => context.RequestServices.GetRequiredService<SyncRequestHandler>();
}
