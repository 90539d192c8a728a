// Helpers for the magic-link E2E tests: create a link, open it as an anonymous caller, read its record
// and history.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Links;

internal static class LinksApi
{
    public const string Path = "/api/v1/curl/links";

    /// <summary>POST /api/v1/curl/links; asserts 201 and returns (link id, /l/ path, the whole answer).</summary>
    public static async Task<(string Id, string LinkPath, JsonElement Body)> CreateAsync(HttpClient client, string body)
    {
        var (status, json) = await client.PostJsonAsync(Path, body);
        if (status != 201) throw new InvalidOperationException($"create answered {status}: {json}");
        return (json.GetProperty("link_id").GetString()!, json.GetProperty("path").GetString()!, json);
    }

    /// <summary>A create body for a request to <paramref name="url"/> with extra request fields and extra link fields.</summary>
    public static string Body(string url, string requestFields = "", string linkFields = "") =>
        $"{{\"request\":{{\"url\":{Json(url)}{requestFields}}}{linkFields}}}";

    public static string Json(string text) => "\"" + JsonEncodedText.Encode(text).Value + "\"";

    /// <summary>A client with no base address, no cookies and no credentials: how a link is opened by whoever holds it.</summary>
    public static HttpClient Anonymous() =>
        new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<JsonElement> GetAsync(HttpClient client, string id)
    {
        var (status, json) = await client.GetJsonAsync($"{Path}/{id}");
        if (status != 200) throw new InvalidOperationException($"GET link answered {status}: {json}");
        return json;
    }

    /// <summary>
    /// The history once every entry is complete: an entry is completed just after its answer went out, so
    /// a caller that reads right after its own opening may see it still open for a moment.
    /// </summary>
    public static async Task<List<JsonElement>> FinishedHistoryAsync(HttpClient client, string id, long after = 0)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var items = await HistoryAsync(client, id, after);
            if (items.All(e => e.GetProperty("status").ValueKind != JsonValueKind.Null || e.GetProperty("error").ValueKind != JsonValueKind.Null))
                return items;
            if (clock.ElapsedMilliseconds > 10_000) throw new TimeoutException($"link {id}: history entries still open after 10 s");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until /metrics contains <paramref name="line"/>; fails after 10 s.</summary>
    public static async Task MetricEventuallyAsync(HttpClient client, string line)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string metrics;
        while (!(metrics = await client.GetStringAsync("/metrics")).Contains(line, StringComparison.Ordinal))
        {
            if (clock.ElapsedMilliseconds > 10_000) throw new TimeoutException($"/metrics never showed '{line}':\n{metrics}");
            await Task.Delay(20);
        }
    }

    public static async Task<List<JsonElement>> HistoryAsync(HttpClient client, string id, long after = 0)
    {
        var (status, json) = await client.GetJsonAsync($"{Path}/{id}/history?after={after}");
        if (status != 200) throw new InvalidOperationException($"history answered {status}: {json}");
        return [.. json.GetProperty("items").EnumerateArray()];
    }
}
