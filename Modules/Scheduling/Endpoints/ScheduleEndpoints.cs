// The /api/v1/curl/schedule routes (contract rest.md §7, decisions D3, D5, D12, D16). Handlers are
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
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace HoodyCurl.Scheduling.Endpoints;

public static class ScheduleEndpoints
{
    public const string Prefix = "/api/v1/curl/schedule";

    /// <summary>Largest page size (decisions D3): larger limits are capped, not refused.</summary>
    public const int MaxLimit = 1000;

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

    /// <summary>--no-schedules: every /api/v1/curl/schedule route, any method, answers 404 (decisions D12).</summary>
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
        using var document = await ReadJsonAsync(context, requests.MaxRequestBodyBytes, requests.Limits.MaxJsonDepth).ConfigureAwait(false);
        var draft = ScheduleJson.ParseCreate(document.RootElement, requests.Limits);
        var schedule = Service(context).Create(draft);
        await WriteJsonAsync(context, StatusCodes.Status201Created, w => ScheduleJson.Write(w, schedule, withScheduleId: true)).ConfigureAwait(false);
    }

    private static Task ListAsync(HttpContext context)
    {
        var (page, limit) = Page(context.Request.Query);
        var result = Service(context).List(page, limit);
        return WriteJsonAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (var item in result.Items) ScheduleJson.Write(w, item, withScheduleId: false);
            w.WriteEndArray();
            ScheduleJson.WritePageTail(w, result.Total, page, limit, result.Items.Count);
            w.WriteEndObject();
        });
    }

    private static Task GetAsync(HttpContext context)
    {
        var schedule = Service(context).Get(Id(context)) ?? throw new ApiErrorException(NotFound);
        return WriteJsonAsync(context, StatusCodes.Status200OK, w => ScheduleJson.Write(w, schedule, withScheduleId: false));
    }

    private static async Task ToggleAsync(HttpContext context)
    {
        var service = Service(context);
        var id = Id(context);
        // An unknown schedule is 404 whatever the body says.
        if (service.Get(id) is null) throw new ApiErrorException(NotFound);
        using var document = await ReadJsonAsync(context, 64 * 1024, 8).ConfigureAwait(false);
        var enabled = ScheduleJson.ParseToggle(document.RootElement);
        var schedule = service.SetEnabled(id, enabled) ?? throw new ApiErrorException(NotFound);
        await WriteJsonAsync(context, StatusCodes.Status200OK, w => ScheduleJson.Write(w, schedule, withScheduleId: false)).ConfigureAwait(false);
    }

    private static Task DeleteAsync(HttpContext context)
    {
        var id = Id(context);
        if (!Service(context).Delete(id)) throw new ApiErrorException(NotFound);
        return WriteJsonAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("message", "Schedule deleted");
            w.WriteString("id", id);
            w.WriteEndObject();
        });
    }

    private static IScheduleService Service(HttpContext context) => context.RequestServices.GetRequiredService<IScheduleService>();

    /// <summary>The {id} route value, percent-decoded (rest.md §0.4).</summary>
    private static string Id(HttpContext context) => Uri.UnescapeDataString(context.Request.RouteValues["id"] as string ?? "");

    /// <summary>`page` (1-based, default 1) and `limit` (optional, at least 1, capped at 1000; absent = all).</summary>
    internal static (int Page, int? Limit) Page(IQueryCollection query)
    {
        var page = Integer(query, "page") ?? 1;
        var limit = Integer(query, "limit");
        return ((int)Math.Min(page, int.MaxValue), limit is { } l ? (int)Math.Min(l, MaxLimit) : null);
    }

    private static long? Integer(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[^1])) return null;
        var raw = values[^1]!;
        if (!long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
            throw new ApiErrorException(ApiError.Validation(
                $"query parameter '{name}' must be an integer of at least 1, got '{ScheduleJson.Printable(raw)}'"));
        return value;
    }

    /// <summary>Reads the body as one JSON document: 413 over <paramref name="limit"/> bytes, 400 when not JSON.</summary>
    private static async Task<JsonDocument> ReadJsonAsync(HttpContext context, long limit, int maxDepth)
    {
        if (context.Request.ContentLength is { } declared && declared > limit) throw TooLarge(limit);
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(context.Request.ContentLength ?? 4096, limit) + 1);
        var reader = context.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            if (buffer.WrittenCount + result.Buffer.Length > limit)
            {
                reader.AdvanceTo(result.Buffer.End);
                throw TooLarge(limit);
            }
            foreach (var segment in result.Buffer) buffer.Write(segment.Span);
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }
        try
        {
            return JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = maxDepth });
        }
        catch (JsonException e)
        {
            var line = e.Message.Split('\n')[0];
            throw new ApiErrorException(ApiError.Validation($"request body is not valid JSON: {line}"));
        }
    }

    private static ApiErrorException TooLarge(long limit) =>
        new(new ApiError(413, ErrorCodes.PayloadTooLarge, $"the request body is larger than --max-request-body-bytes ({limit} bytes)"));

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Turns an ApiErrorException (and a store failure) into the contract's error body (decisions D2).</summary>
    private static RequestDelegate Guard(Func<HttpContext, Task> handler) => async context =>
    {
        try
        {
            await handler(context).ConfigureAwait(false);
        }
        catch (ApiErrorException e)
        {
            await e.Error.WriteAsync(context).ConfigureAwait(false);
        }
        catch (SqliteException)
        {
            await StorageError.WriteAsync(context).ConfigureAwait(false);
        }
    };
}
