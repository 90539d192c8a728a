// Small helpers to call the sidecar and read its JSON answers in tests.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace HoodyCurl.E2E.Tests.Harness;

public static class Api
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    public static async Task<(int Status, JsonElement Body)> PostJsonAsync(this HttpClient client, string path, string json)
    {
        using var response = await client.PostAsync(path, Json(json));
        return ((int)response.StatusCode, await ReadJsonAsync(response));
    }

    public static async Task<(int Status, JsonElement Body)> GetJsonAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return ((int)response.StatusCode, await ReadJsonAsync(response));
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (text.Length == 0) return default;
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"not JSON ({(int)response.StatusCode}): {text[..Math.Min(text.Length, 500)]}");
        }
    }

    public static string Q(string value) => Uri.EscapeDataString(value);
}
