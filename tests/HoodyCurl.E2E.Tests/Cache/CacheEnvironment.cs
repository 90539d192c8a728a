// One cache-enabled sidecar and one test upstream shared by the RFC 9111 table (each row uses its own
// /cacheable/{name}, so rows do not interfere), plus the helpers the cache tests share.
using System.Text.Json;
using System.Text.RegularExpressions;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;
using TUnit.Core.Interfaces;

namespace HoodyCurl.E2E.Tests.Cache;

public sealed partial class CacheEnvironment : IAsyncInitializer, IAsyncDisposable
{
    public static readonly string[] CacheFlags = ["--cache-namespace", "ctn:e2e:cache", "--cache-mode", "readwrite"];

    public Sidecar Sidecar { get; private set; } = null!;
    public TestUpstreamServer Upstream { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstreamServer.StartAsync();
        Sidecar = await Sidecar.StartAsync(CacheFlags);
    }

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    /// <summary>POST /request in json mode; <paramref name="extra"/> is raw JSON fields (",\"k\":v" form, without the comma).</summary>
    public static async Task<(int Status, JsonElement Body)> RequestAsync(Sidecar sidecar, string url, string? headersJson = null, string? extra = null)
    {
        var json = $"{{\"url\":\"{JsonEncodedText.Encode(url)}\",\"response\":\"json\"" +
            (headersJson is null ? "" : $",\"headers\":{headersJson}") + (extra is null ? "" : "," + extra) + "}";
        return await sidecar.Client.PostJsonAsync("/api/v1/curl/request", json);
    }

    public static string CacheOf(JsonElement envelope) =>
        envelope.TryGetProperty("cache", out var c) ? c.GetString()! : "(none)";

    /// <summary>The value of one metric series from /metrics (0 when absent).</summary>
    public static async Task<double> MetricAsync(Sidecar sidecar, string series)
    {
        var text = await sidecar.Client.GetStringAsync("/metrics");
        foreach (var line in text.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return 0;
    }

    /// <summary>The namespace's cache folder inside a storage dir.</summary>
    public static string CacheRoot(string storageDir, string ns = "ctn:e2e:cache") =>
        Path.Combine(storageDir, "cache", "ns-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ns))));

    public static long DirectoryBytes(string dir) =>
        Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Sum(f => { try { return new FileInfo(f).Length; } catch (IOException) { return 0; } }) : 0;

    public static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];

    [GeneratedRegex("^[a-z]+#[0-9]+")]
    public static partial Regex BodyHead();
}
