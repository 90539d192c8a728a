// GET /api/v1/curl/openapi.json is generated from the routing table: it lists the routes users know, and
// every operation it lists is answered by a real route (never the "no route" 404 or a 405), so the document
// and the server cannot drift apart.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Host;

public class OpenApiTests
{
    [Test]
    public async Task The_document_lists_every_route_and_every_listed_operation_is_served()
    {
        await using var sidecar = await Sidecar.StartAsync();
        using var response = await sidecar.Client.GetAsync("/api/v1/curl/openapi.json");
        await Assert.That((int)response.StatusCode).IsEqualTo(200);
        await Assert.That(response.Content.Headers.ContentType!.MediaType).IsEqualTo("application/json");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        await Assert.That(root.GetProperty("openapi").GetString()).IsEqualTo("3.1.0");
        await Assert.That(root.GetProperty("components").GetProperty("schemas").GetProperty("Error").GetProperty("required").GetArrayLength()).IsEqualTo(3);

        var operations = new List<(string Path, string Method)>();
        foreach (var path in root.GetProperty("paths").EnumerateObject())
            foreach (var method in path.Value.EnumerateObject())
                operations.Add((path.Name, method.Name.ToUpperInvariant()));

        // The routes a user of the README knows are all there.
        (string, string)[] known =
        [
            ("/api/v1/curl/request", "GET"), ("/api/v1/curl/request", "POST"), ("/curl", "GET"), ("/curl", "POST"),
            ("/api/v1/curl/jobs", "GET"), ("/api/v1/curl/jobs/{id}", "GET"), ("/api/v1/curl/jobs/{id}", "DELETE"),
            ("/api/v1/curl/jobs/{id}/result", "GET"), ("/api/v1/curl/sessions", "GET"), ("/api/v1/curl/storage", "GET"),
            ("/api/v1/curl/schedule", "POST"), ("/api/v1/curl/schedule", "GET"), ("/api/v1/curl/health", "GET"),
            ("/health", "GET"), ("/metrics", "GET"), ("/api/v1/curl/openapi.json", "GET"),
            ("/api/v1/curl/ws", "GET"), ("/api/v1/curl/sse", "GET"), ("/api/v1/curl/links", "POST"), ("/api/v1/curl/links", "GET"),
        ];
        foreach (var op in known) await Assert.That(operations).Contains(op);
        // HEAD is folded into GET (it works wherever GET does): no separate operations.
        await Assert.That(operations.Any(o => o.Method == "HEAD")).IsFalse();

        // Every listed operation reaches a route: filled with a dummy parameter, it is answered by that route
        // (its own 2xx/4xx), never by the fallback's "no route" 404 nor a 405.
        foreach (var (path, method) in operations)
        {
            var url = System.Text.RegularExpressions.Regex.Replace(path, "\\{[^}]+\\}", "zz-not-there");
            if (path is "/sse" or "/api/v1/curl/sse") url += "?job_id=zz"; // an event stream stays open: keep it short
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var answer = await sidecar.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var status = (int)answer.StatusCode;
            var shown = $"{method} {url} -> {status}";
            await Assert.That(status).IsNotEqualTo(405).Because(shown);
            if (status == 404 && answer.Content.Headers.ContentType?.MediaType == "application/json")
            {
                var body = await answer.Content.ReadAsStringAsync(cts.Token);
                await Assert.That(body).DoesNotContain("no route for").Because(shown + " " + body);
            }
        }
    }
}
