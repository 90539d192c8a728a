// What a job keeps of its upstream response besides the body file: status, headers in original case
// and order, and libcurl's timings and facts. Serialised into the jobs.response column as JSON through
// the source-generated StoredResponseJson shape.
using System.Text.Json;
using System.Text.Json.Serialization;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Jobs;

public sealed record StoredResponse
{
    public required int StatusCode { get; init; }
    public string? ContentType { get; init; }
    /// <summary>Final response headers, original case and order, set-cookie entries kept apart.</summary>
    public required IReadOnlyList<HeaderEntry> RawHeaders { get; init; }
    /// <summary>libcurl decoded a Content-Encoding, so the stored body is the decoded one.</summary>
    public bool BodyDecoded { get; init; }
    /// <summary>Bytes in the body file.</summary>
    public long BodyBytes { get; init; }
    public required TransferInfo Info { get; init; }
    public required string EffectiveUrl { get; init; }
    public string? PrimaryIp { get; init; }
    /// <summary>Where `save: true` filed the body under downloads/ (paths relative to it), else null.</summary>
    public SavedFile? Saved { get; init; }
    /// <summary>The response cache's verdict for the run (hit, miss, stale, revalidated, bypass); null when caching is off.</summary>
    public string? Cache { get; init; }

    internal static StoredResponse From(UpstreamResponse response, TransferInfo info, long bodyBytes) => new()
    {
        StatusCode = response.StatusCode,
        ContentType = response.ContentType ?? info.ContentType,
        RawHeaders = response.Headers,
        BodyDecoded = response.BodyDecoded,
        BodyBytes = bodyBytes,
        Info = info,
        EffectiveUrl = info.EffectiveUrl ?? response.EffectiveUrl,
        PrimaryIp = info.PrimaryIp,
        Cache = response.CacheStatus,
    };

    internal string ToJson() => JsonSerializer.Serialize(new StoredResponseJson
    {
        StatusCode = StatusCode,
        ContentType = ContentType,
        RawHeaders = RawHeaders,
        BodyDecoded = BodyDecoded,
        BodyBytes = BodyBytes,
        Facts = Info,
        EffectiveUrl = EffectiveUrl,
        PrimaryIp = PrimaryIp,
        Saved = Saved,
        Cache = Cache,
    }, JobsJsonContext.Default.StoredResponseJson);

    internal static StoredResponse FromJson(string json)
    {
        var stored = JsonSerializer.Deserialize(json, JobsJsonContext.Default.StoredResponseJson)
            ?? throw new JsonException("stored response is null");
        return new StoredResponse
        {
            StatusCode = stored.StatusCode,
            ContentType = stored.ContentType,
            RawHeaders = stored.RawHeaders,
            BodyDecoded = stored.BodyDecoded,
            BodyBytes = stored.BodyBytes,
            Info = stored.Facts,
            EffectiveUrl = stored.EffectiveUrl,
            PrimaryIp = stored.PrimaryIp,
            Saved = stored.Saved,
            Cache = stored.Cache,
        };
    }
}

/// <summary>A saved copy of a job's body: the storage id, its paths under downloads/ (first = by-job) and size.</summary>
/// <remarks>Written as `"saved": {id, path, paths, size}`, the shape of the sync envelope's `saved`.</remarks>
public sealed record SavedFile(
    [property: JsonPropertyOrder(0)] string Id,
    [property: JsonPropertyOrder(2)] IReadOnlyList<string> Paths,
    [property: JsonPropertyOrder(3)] long Size)
{
    /// <summary>The first path (by-job), or "" when there is none.</summary>
    [JsonPropertyOrder(1)]
    public string Path => Paths.Count > 0 ? Paths[0] : "";
}
