// One sidecar for the whole hostile-input suite, with small limits so every limit is cheap to cross,
// and the test upstream whose traces prove that refused input never reached it.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;
using TUnit.Core.Interfaces;

namespace HoodyCurl.E2E.Tests.Security;

public sealed class HostileEnvironment : IAsyncInitializer, IAsyncDisposable
{
    public const int MaxBodyBytes = 65536;
    public const int MaxJsonDepth = 16;
    public const int MaxUrlLength = 2048;
    public const int MaxHeaderCount = 20;
    public const int MaxHeaderBytes = 4096;

    public TestUpstreamServer Upstream { get; private set; } = null!;
    public Sidecar Sidecar { get; private set; } = null!;
    public HttpClient Client => Sidecar.Client;

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstreamServer.StartAsync();
        Sidecar = await Sidecar.StartAsync(
            "--max-request-body-bytes", MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--max-json-depth", MaxJsonDepth.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--max-url-length", MaxUrlLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--max-header-count", MaxHeaderCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--max-header-bytes", MaxHeaderBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>An upstream /echo URL carrying a fresh trace id, and that id.</summary>
    public (string Url, string Trace) TracedEcho()
    {
        var trace = "hostile-" + Guid.NewGuid().ToString("N");
        return (Upstream.Url($"/echo?trace={trace}"), trace);
    }

    /// <summary>A POST body: {"url": url, "response": "json", ...fields}.</summary>
    public static string Body(string url, string fields) =>
        $"{{\"url\":{SsrfEnvironment.Json(url)},\"response\":\"json\"{(fields.Length > 0 ? "," + fields : "")}}}";

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
