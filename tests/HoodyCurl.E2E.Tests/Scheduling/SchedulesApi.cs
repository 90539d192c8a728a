// Helpers for the schedule E2E tests: create, toggle, delete, and the jobs a schedule created.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Scheduling;

internal static class SchedulesApi
{
    public const string Path = "/api/v1/curl/schedule";

    /// <summary>POST a schedule for <paramref name="url"/>; returns the created schedule (asserting 201).</summary>
    public static async Task<JsonElement> CreateAsync(HttpClient client, string cron, string url, string extraFields = "", string extraRequestFields = "")
    {
        var body = $"{{\"cron\":\"{JsonEncodedText.Encode(cron)}\",\"request\":{{\"url\":\"{JsonEncodedText.Encode(url)}\"{extraRequestFields}}}{extraFields}}}";
        var (status, json) = await client.PostJsonAsync(Path, body);
        if (status != 201) throw new InvalidOperationException($"create answered {status}: {json}");
        return json;
    }

    public static async Task<(int Status, JsonElement Body)> ToggleAsync(HttpClient client, string id, string body)
    {
        using var response = await client.PatchAsync($"{Path}/{id}/toggle", Api.Json(body));
        return ((int)response.StatusCode, await Api.ReadJsonAsync(response));
    }

    public static async Task<JsonElement> SetEnabledAsync(HttpClient client, string id, bool enabled)
    {
        var (status, json) = await ToggleAsync(client, id, enabled ? """{"enabled":true}""" : """{"enabled":false}""");
        if (status != 200) throw new InvalidOperationException($"toggle answered {status}: {json}");
        return json;
    }

    public static async Task<(int Status, JsonElement Body)> DeleteAsync(HttpClient client, string id)
    {
        using var response = await client.DeleteAsync($"{Path}/{id}");
        return ((int)response.StatusCode, await Api.ReadJsonAsync(response));
    }

    /// <summary>The job summaries linked to the schedule, newest first.</summary>
    public static async Task<List<JsonElement>> JobsAsync(HttpClient client, string scheduleId)
    {
        var (status, json) = await client.GetJsonAsync($"/api/v1/curl/jobs?schedule_id={scheduleId}");
        if (status != 200) throw new InvalidOperationException($"job list answered {status}: {json}");
        return [.. json.GetProperty("items").EnumerateArray()];
    }

    public static DateTimeOffset Time(this JsonElement element, string name) =>
        DateTimeOffset.Parse(element.GetProperty(name).GetString()!, CultureInfo.InvariantCulture);

    public static string Str(this JsonElement element, string name) => element.GetProperty(name).GetString()!;

    /// <summary>Waits until <paramref name="condition"/> holds; fails after <paramref name="timeoutMs"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, int timeoutMs, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"{what}: not within {timeoutMs} ms");
            await Task.Delay(50);
        }
    }
}
