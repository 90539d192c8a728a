// The wire shapes of the schedule API: the bodies are read strictly with JsonDocument (field-naming
// errors), the answer is the source-generated ScheduleView (no reflection): the create body, the toggle
// body and the ScheduledJob of docs/api.md (Schedules)
// (request redacted, docs/api.md D9).
using System.Text.Json;
using System.Text.Json.Serialization;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Time;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Scheduling.Endpoints;

internal static class ScheduleJson
{
    /// <summary>
    /// Reads `{cron, request, name?, enabled?, timezone?, skip_if_running?}`. Unknown fields, wrong
    /// types and a missing cron or request are 400 VALIDATION_ERROR; a cron that is not a string is 400
    /// INVALID_CRON; the request is parsed exactly like a POST /request body (Api flavour).
    /// </summary>
    public static ScheduleDraft ParseCreate(JsonElement root, RequestLimits limits)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Fail("request body must be a JSON object");
        string? cron = null;
        var cronSeen = false;
        JsonElement? request = null;
        string? name = null, timeZone = null;
        bool? enabled = null, skipIfRunning = null;
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "cron":
                    cronSeen = p.Value.ValueKind != JsonValueKind.Null;
                    if (cronSeen && p.Value.ValueKind != JsonValueKind.String) throw new ApiErrorException(CronGrammar.Invalid);
                    cron = cronSeen ? p.Value.GetString() : null;
                    break;
                case "request":
                    request = p.Value.ValueKind == JsonValueKind.Null ? null : p.Value;
                    break;
                case "name": name = OptionalString(p); break;
                case "timezone": timeZone = OptionalString(p); break;
                case "enabled": enabled = OptionalBool(p); break;
                case "skip_if_running": skipIfRunning = OptionalBool(p); break;
                default: throw Fail($"unknown field '{ErrorText.Printable(p.Name)}'");
            }
        }
        if (!cronSeen || cron is null) throw Fail("field 'cron' is required");
        if (request is not { } requestElement) throw Fail("field 'request' is required");
        CurlRequest parsed;
        try
        {
            parsed = CurlRequestJson.Parse(requestElement, limits, CurlRequestJsonFlavor.Api);
        }
        catch (ApiErrorException e) when (e.Error.Code == ErrorCodes.Validation)
        {
            throw Fail($"request: {e.Error.Message}");
        }
        return new ScheduleDraft
        {
            Cron = cron,
            Request = parsed,
            Name = name,
            Enabled = enabled ?? true,
            TimeZone = timeZone,
            SkipIfRunning = skipIfRunning ?? false,
        };
    }

    /// <summary>Reads `{"enabled": true|false}`: exactly that one field, an explicit JSON boolean.</summary>
    public static bool ParseToggle(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Fail("request body must be a JSON object {\"enabled\": true|false}");
        bool? enabled = null;
        foreach (var p in root.EnumerateObject())
        {
            if (p.Name != "enabled") throw Fail($"unknown field '{ErrorText.Printable(p.Name)}'");
            enabled = p.Value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Fail("field 'enabled' must be a JSON boolean (true or false)"),
            };
        }
        return enabled ?? throw Fail("field 'enabled' is required and must be a JSON boolean (true or false)");
    }

    /// <summary>The ScheduledJob object; <paramref name="withScheduleId"/> adds `schedule_id` first (the create answer).</summary>
    public static void Write(Utf8JsonWriter w, ScheduleRecord s, bool withScheduleId) => JsonSerializer.Serialize(w, new ScheduleView(
        withScheduleId ? s.Id : null, s.Id, s.Name, s.Cron, s.TimeZone, s.Enabled, s.SkipIfRunning, Rfc3339.Format(s.CreatedAt),
        Time(s.NextRun), Time(s.LastRun), s.LastJobId, s.RunCount, s.SkippedCount, s.Request), SchedulingJsonContext.Default.ScheduleView);

    private static string? Time(DateTimeOffset? value) => value is { } v ? Rfc3339.Format(v) : null;

    private static ApiErrorException Fail(string message) => new(ApiError.Validation(message));

    private static string? OptionalString(JsonProperty p) => p.Value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => p.Value.GetString(),
        _ => throw Fail($"field '{p.Name}' must be a string"),
    };

    private static bool? OptionalBool(JsonProperty p) => p.Value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Fail($"field '{p.Name}' must be a JSON boolean (true or false)"),
    };
}

/// <summary>The ScheduledJob of docs/api.md (Schedules) (request redacted, docs/api.md D9); schedule_id only in the create answer.</summary>
internal sealed record ScheduleView(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ScheduleId,
    string Id,
    string? Name,
    string Cron,
    string Timezone,
    bool Enabled,
    bool SkipIfRunning,
    string CreatedAt,
    string? NextRun,
    string? LastRun,
    string? LastJobId,
    long RunCount,
    long SkippedCount,
    [property: JsonConverter(typeof(CurlRequestApiConverter))] CurlRequest Request);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ScheduleView))]
internal sealed partial class SchedulingJsonContext : JsonSerializerContext;
