// GET /api/v1/curl/cache (stats) and DELETE /api/v1/curl/cache (purge all, or ?url= one URL's entries).
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace HoodyCurl.Cache.Endpoints;

internal static class CacheEndpoints
{
    private const string Route = "/api/v1/curl/cache";
    private static readonly ApiError StoreError = new(500, ErrorCodes.StorageError, "Failed to read or write the cache store");

    public static void MapCache(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Route, EndpointGuard.Wrap(Stats, StoreError, "HoodyCurl.Cache"));
        endpoints.MapDelete(Route, EndpointGuard.Wrap(Purge, StoreError, "HoodyCurl.Cache"));
    }

    private static Task Stats(HttpContext context)
    {
        var cache = context.RequestServices.GetRequiredService<ResponseCache>();
        var o = cache.Options;
        return JsonResponse.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("enabled", cache.Enabled);
            w.WriteString("mode", o.Mode switch { CacheMode.ReadOnly => "readonly", CacheMode.ReadWrite => "readwrite", _ => "off" });
            if (o.Namespace is null) w.WriteNull("namespace");
            else w.WriteString("namespace", o.Namespace);
            w.WriteNumber("generation", o.Generation);
            w.WriteNumber("entries", cache.Store?.EntryCount ?? 0);
            w.WriteNumber("objects", cache.Store?.ObjectCount ?? 0);
            w.WriteNumber("bytes", cache.Store?.TotalBytes ?? 0);
            w.WriteNumber("max_bytes", o.MaxBytes);
            w.WriteNumber("max_object_bytes", o.MaxObjectBytes);
            w.WriteNumber("max_object_bytes_decoded", o.MaxObjectBytesDecoded);
            w.WriteEndObject();
        });
    }

    private static Task Purge(HttpContext context)
    {
        var cache = context.RequestServices.GetRequiredService<ResponseCache>();
        var url = QueryValues.Single(context.Request.Query, "url");
        if (url is not null && !Uri.TryCreate(url, UriKind.Absolute, out _))
            throw new ApiErrorException(ApiError.Validation("query parameter 'url' must be an absolute URL"));
        var removed = cache.Purge(url);
        return JsonResponse.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("deleted", removed);
            w.WriteEndObject();
        });
    }
}
