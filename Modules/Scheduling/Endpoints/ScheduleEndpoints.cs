// The /api/v1/curl/schedule routes (docs/api.md: Schedules; D3, D5, D12, D16). Handlers are
// plain RequestDelegates writing JSON with Utf8JsonWriter: no reflection, nothing for the trimmer.
// With --no-schedules the same paths are mapped to one handler that answers 404 for every method.
using System.Buffers;
using System.Globalization;
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using HoodyCurl.Kernel.Http;

namespace HoodyCurl.Scheduling.Endpoints;

public static class ScheduleEndpoints
{
    public const string Prefix = "/api/v1/curl/schedule";

    private static readonly ApiError NotFound = ApiError.NotFound(ErrorCodes.ScheduleNotFound, "Schedule not found");

    private static readonly ApiError Disabled =
        ApiError.NotFound(ErrorCodes.NotFound, "schedules are disabled on this sidecar (--no-schedules)");

    private static readonly ApiError StorageError = new(500, ErrorCodes.StorageError, "Failed to read or write schedule data");

    public static RouteGroupBuilder MapSchedules(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix);
        group.MapPost("", Guard(CreateAsync));
        group.MapGet("", Guard(ListAsync));
        group.MapGet("/{id}", Guard(GetAsync));
        group.MapPatch("/{id}/toggle", Guard(ToggleAsync));
        group.MapDelete("/{id}", Guard(DeleteAsync));
        return group;
    }

    /// <summary>--no-schedules: every /api/v1/curl/schedule route, any method, answers 404 (docs/api.md D12).</summary>
    public static RouteGroupBuilder MapSchedulesDisabled(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix);
        group.Map("", Disabled.WriteAsync);
        group.Map("/{**rest}", Disabled.WriteAsync);
        return group;
    }

    private static async Task CreateAsync(HttpContext context)
    {
        var requests = context.RequestServices.GetRequiredService<RequestsOptions>();
        using var document = await RequestBody.ReadJsonAsync(context, requests.MaxRequestBodyBytes, requests.Limits.MaxJsonDepth).ConfigureAwait(false);
        var draft = ScheduleJson.ParseCreate(document.RootElement, requests.Limits);
        var schedule = Service(context).Create(draft);
        await JsonResponse.WriteAsync(context, StatusCodes.Status201Created, w => ScheduleJson.Write(w, schedule, withScheduleId: true)).ConfigureAwait(false);
    }

    private static Task ListAsync(HttpContext context)
    {
        var (page, limit) = Paging.Read(context.Request.Query);
        var result = Service(context).List(page, limit);
        // The rows are bounded by --max-schedules; the answer is streamed so it is never held whole as well.
        return JsonResponse.StreamAsync(context, StatusCodes.Status200OK, async (w, flush) =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (var item in result.Items)
            {
                ScheduleJson.Write(w, item, withScheduleId: false);
                await flush().ConfigureAwait(false);
            }
            w.WriteEndArray();
            Paging.WriteTail(w, result.Total, page, limit, result.Items.Count);
            w.WriteEndObject();
        });
    }

    private static Task GetAsync(HttpContext context)
    {
        var schedule = Service(context).Get(Id(context)) ?? throw new ApiErrorException(NotFound);
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w => ScheduleJson.Write(w, schedule, withScheduleId: false));
    }

    private static async Task ToggleAsync(HttpContext context)
    {
        var service = Service(context);
        var id = Id(context);
        // An unknown schedule is 404 whatever the body says.
        if (service.Get(id) is null) throw new ApiErrorException(NotFound);
        using var document = await RequestBody.ReadJsonAsync(context, 64 * 1024, 8).ConfigureAwait(false);
        var enabled = ScheduleJson.ParseToggle(document.RootElement);
        var schedule = service.SetEnabled(id, enabled) ?? throw new ApiErrorException(NotFound);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w => ScheduleJson.Write(w, schedule, withScheduleId: false)).ConfigureAwait(false);
    }

    private static Task DeleteAsync(HttpContext context)
    {
        var id = Id(context);
        if (!Service(context).Delete(id)) throw new ApiErrorException(NotFound);
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("message", "Schedule deleted");
            w.WriteString("id", id);
            w.WriteEndObject();
        });
    }

    private static IScheduleService Service(HttpContext context) => context.RequestServices.GetRequiredService<IScheduleService>();

    /// <summary>The {id} route value, percent-decoded (docs/api.md (Conventions)).</summary>
    private static string Id(HttpContext context) => Uri.UnescapeDataString(context.Request.RouteValues["id"] as string ?? "");

    /// <summary>Turns an ApiErrorException (and a store failure) into the contract's error body (docs/api.md D2).</summary>
    private static RequestDelegate Guard(Func<HttpContext, Task> handler) => EndpointGuard.Wrap(handler, StorageError, "HoodyCurl.Scheduling");
}
