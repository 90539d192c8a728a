// One sidecar and one test upstream shared by the read-only request tests of a run (each test uses
// its own trace ids and paths, so they do not interfere). Tests that change flags start their own.
using HoodyCurl.TestUpstream;
using TUnit.Core.Interfaces;

namespace HoodyCurl.E2E.Tests.Harness;

public sealed class SharedEnvironment : IAsyncInitializer, IAsyncDisposable
{
    public Sidecar Sidecar { get; private set; } = null!;
    public TestUpstreamServer Upstream { get; private set; } = null!;
    public HttpClient Client => Sidecar.Client;

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstreamServer.StartAsync();
        Sidecar = await Sidecar.StartAsync();
    }

    /// <summary>A GET-bridge path for the given upstream path and extra query (already encoded).</summary>
    public string Bridge(string upstreamPath, string extraQuery = "") =>
        $"/api/v1/curl/request?url={Api.Q(Upstream.Url(upstreamPath))}{extraQuery}";

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
