// One sidecar for the SSRF suite, started with the policy the tests run under (decisions D11):
// --allow-cidr 127.0.0.1/32 (added by the harness), so the test upstream is reachable and every other
// loopback address stays blocked; --resolve names that point into the connection trap.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;
using TUnit.Core.Interfaces;

namespace HoodyCurl.E2E.Tests.Security;

public sealed class SsrfEnvironment : IAsyncInitializer, IAsyncDisposable
{
    public ConnectionTrap Trap { get; private set; } = null!;
    public TestUpstreamServer Upstream { get; private set; } = null!;
    public Sidecar Sidecar { get; private set; } = null!;
    public HttpClient Client => Sidecar.Client;

    public async Task InitializeAsync()
    {
        Trap = ConnectionTrap.Start();
        Upstream = await TestUpstreamServer.StartAsync();
        Sidecar = await Sidecar.StartAsync(ResolveFlags(Trap.Port));
    }

    /// <summary>name.test and name6.test point at the trap's port on 127.0.0.2 and ::1, like curl --resolve.</summary>
    public static string[] ResolveFlags(int trapPort) =>
        ["--resolve", $"name.test:{trapPort}:127.0.0.2", "--resolve", $"name6.test:{trapPort}:[::1]"];

    /// <summary>Fills {trap} (the trap's port) and {self} (the sidecar's own port) into a URL template.</summary>
    public string Fill(string template) =>
        template.Replace("{trap}", Trap.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{self}", Sidecar.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>The test upstream's /redirect-to answering <paramref name="status"/> with Location <paramref name="target"/>.</summary>
    public string RedirectTo(string target, int status, string trace) =>
        Upstream.Url($"/redirect-to?url={Api.Q(target)}&status_code={status}&trace={trace}");

    /// <summary>Runs <paramref name="url"/> through the GET bridge (sync, json).</summary>
    public Task<(int Status, JsonElement Body)> ViaBridge(string url) =>
        Client.GetJsonAsync($"/api/v1/curl/request?timeout=5&url={Api.Q(url)}");

    /// <summary>Runs <paramref name="url"/> through POST /api/v1/curl/request (mode sync, default transparent), as a POST with a body.</summary>
    public Task<(int Status, JsonElement Body)> ViaPost(string url) =>
        Client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":{Json(url)},\"mode\":\"sync\",\"data\":\"x\",\"timeout\":5}}");

    /// <summary>A JSON string literal holding <paramref name="text"/>.</summary>
    public static string Json(string text) => "\"" + JsonEncodedText.Encode(text).Value + "\"";

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        await Upstream.DisposeAsync();
        await Trap.DisposeAsync();
    }
}
