// Helpers for the sessions E2E tests: requests through /request with a session_id, jar reads.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Sessions;

internal static class SessionsApi
{
    /// <summary>POST /api/v1/curl/request {url, session_id, response: json}; returns the sidecar status and envelope.</summary>
    public static Task<(int Status, JsonElement Body)> RequestAsync(HttpClient client, string url, string? sessionId, string extraFields = "")
    {
        var session = sessionId is null ? "" : $",\"session_id\":\"{JsonEncodedText.Encode(sessionId)}\"";
        return client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{JsonEncodedText.Encode(url)}\",\"response\":\"json\"{session}{extraFields}}}");
    }

    /// <summary>Like <see cref="RequestAsync"/> but insists on 200 and returns the envelope.</summary>
    public static async Task<JsonElement> EnvelopeAsync(HttpClient client, string url, string? sessionId, string extraFields = "")
    {
        var (status, body) = await RequestAsync(client, url, sessionId, extraFields);
        if (status != 200) throw new InvalidOperationException($"request answered {status}: {body}");
        return body;
    }

    /// <summary>The upstream's JSON body inside an envelope.</summary>
    public static JsonElement UpstreamJson(this JsonElement envelope)
    {
        using var document = JsonDocument.Parse(envelope.GetProperty("body").GetString()!);
        return document.RootElement.Clone();
    }

    /// <summary>The cookies the upstream's /cookies echo saw.</summary>
    public static async Task<Dictionary<string, string>> SentCookiesAsync(HttpClient client, string cookiesUrl, string sessionId)
    {
        var echo = (await EnvelopeAsync(client, cookiesUrl, sessionId)).UpstreamJson();
        return echo.GetProperty("cookies").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    /// <summary>GET /api/v1/curl/sessions/{id}/cookies as a dictionary (asserting 200).</summary>
    public static async Task<Dictionary<string, string>> SnapshotAsync(HttpClient client, string sessionId)
    {
        var (status, body) = await client.GetJsonAsync($"/api/v1/curl/sessions/{Uri.EscapeDataString(sessionId)}/cookies");
        if (status != 200) throw new InvalidOperationException($"cookies answered {status}: {body}");
        return body.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    /// <summary>GET /api/v1/curl/sessions/{id} (asserting 200).</summary>
    public static async Task<JsonElement> SessionAsync(HttpClient client, string sessionId)
    {
        var (status, body) = await client.GetJsonAsync($"/api/v1/curl/sessions/{Uri.EscapeDataString(sessionId)}");
        if (status != 200) throw new InvalidOperationException($"session answered {status}: {body}");
        return body;
    }

    /// <summary>The scoped cookie named <paramref name="name"/> (the first one), or null.</summary>
    public static JsonElement? Scoped(this JsonElement session, string name) =>
        session.GetProperty("scoped_cookies").EnumerateArray().Where(c => c.GetProperty("name").GetString() == name)
            .Select(c => (JsonElement?)c).FirstOrDefault();

    public static string Q(string value) => Uri.EscapeDataString(value);
}
