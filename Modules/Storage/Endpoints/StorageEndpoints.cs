// The /api/v1/curl/storage routes (docs/api.md: Storage; D3, D14, D16). Handlers are
// plain RequestDelegates writing the source-generated shapes of StorageJson.cs: no reflection, nothing for the trimmer.
//
// The {path} arrives either with literal slashes (raw users) or as one %2F-encoded segment (the SDK's
// encodeURIComponent). ASP.NET decodes everything but %2F, so a decoded route value cannot tell `%2F`
// from `%252F`; the path is therefore decoded exactly once from the raw request target.
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Time;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;
using HoodyCurl.Kernel.Http;

namespace HoodyCurl.Storage.Endpoints;

public static class StorageEndpoints
{
    private const string Prefix = "/api/v1/curl/storage";
    private static readonly ApiError IndexError = new(500, ErrorCodes.StorageError, "Failed to read or write the storage index");

    public static RouteGroupBuilder MapStorage(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix);
        group.MapGet("", Guard(List));
        group.MapMethods("/{**path}", [HttpMethods.Get, HttpMethods.Head], Guard(Download));
        group.MapDelete("/{**path}", Guard(Delete));
        return group;
    }

    private static Task List(HttpContext context)
    {
        var (page, limit) = Paging.Read(context.Request.Query);
        var (total, items) = Store(context).ListLazily(page, limit);
        // Streamed from batched reads: without `limit` the list is every stored path.
        return JsonResponse.StreamAsync(context, StatusCodes.Status200OK, async (w, flush) =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            var returned = 0;
            foreach (var item in items)
            {
                JsonSerializer.Serialize(w, new StoredFileView(item.Path, item.Size, Rfc3339.Format(item.CreatedAt), item.Id, item.Url),
                    StorageJsonContext.Default.StoredFileView);
                returned++;
                await flush().ConfigureAwait(false);
            }
            w.WriteEndArray();
            Paging.WriteTail(w, total, page, limit, returned);
            w.WriteEndObject();
        });
    }

    /// <summary>The file's bytes: application/octet-stream, Content-Length, Range (206/416), ETag, If-None-Match (304).</summary>
    private static async Task Download(HttpContext context)
    {
        var path = RequestPath(context);
        if (path.Length == 0 && HttpMethods.IsGet(context.Request.Method))
        {
            await List(context).ConfigureAwait(false); // GET /storage/ with a trailing slash
            return;
        }
        CheckPath(path);
        var (file, stream) = Store(context).OpenRead(path) ?? throw new ApiErrorException(NotFound(path));
        // The id never names other bytes (saved files are immutable), so it is a strong validator.
        var result = TypedResults.Stream(stream, "application/octet-stream", fileDownloadName: null,
            lastModified: file.CreatedAt, entityTag: new EntityTagHeaderValue($"\"{file.Id}\""), enableRangeProcessing: true);
        await result.ExecuteAsync(context).ConfigureAwait(false); // disposes the stream
    }

    private static Task Delete(HttpContext context)
    {
        var path = RequestPath(context);
        CheckPath(path);
        var file = Store(context).Delete(path) ?? throw new ApiErrorException(NotFound(path));
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new FileDeletedView("File deleted", path, file.Id, file.Paths),
            StorageJsonContext.Default.FileDeletedView);
    }

    /// <summary>
    /// The {**path} of the request, percent-decoded exactly once: from the raw target when it starts
    /// with the route's prefix, else (a normalised target) from the route value with %2F decoded.
    /// </summary>
    internal static string RequestPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is not null && raw.StartsWith(Prefix + "/", StringComparison.OrdinalIgnoreCase))
        {
            var end = raw.IndexOfAny(['?', '#']);
            var encoded = raw[(Prefix.Length + 1)..(end < 0 ? raw.Length : end)];
            return Uri.UnescapeDataString(encoded);
        }
        var value = context.Request.RouteValues["path"] as string ?? "";
        return value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
    }

    private static void CheckPath(string path)
    {
        if (StoragePaths.RequestPathProblem(path) is { } problem)
            throw new ApiErrorException(ApiError.Validation($"storage path {problem}"));
    }

    private static ApiError NotFound(string path) => ApiError.NotFound(ErrorCodes.FileNotFound, $"File not found: {path}");

    private static FileStore Store(HttpContext context) => context.RequestServices.GetRequiredService<FileStore>();

    /// <summary>Turns an ApiErrorException into the contract's error body (docs/api.md D2); index failures into 500.</summary>
    private static RequestDelegate Guard(Func<HttpContext, Task> handler) => EndpointGuard.Wrap(handler, IndexError, "HoodyCurl.Storage");
}
