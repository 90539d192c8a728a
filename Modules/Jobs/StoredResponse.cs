// What a job keeps of its upstream response besides the body file: status, headers in original case
// and order, and libcurl's timings and facts. Serialised into the jobs.response column as JSON.
using System.Text.Json;
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

    internal string ToJson()
    {
        using var buffer = new MemoryStream(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("status_code", StatusCode);
            if (ContentType is not null) w.WriteString("content_type", ContentType);
            w.WriteStartArray("raw_headers");
            foreach (var h in RawHeaders)
            {
                w.WriteStartObject();
                w.WriteString("name", h.Name);
                w.WriteString("value", h.Value);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteBoolean("body_decoded", BodyDecoded);
            w.WriteNumber("body_bytes", BodyBytes);
            w.WriteNumber("total_time", Info.Total);
            w.WriteNumber("namelookup_time", Info.NameLookup);
            w.WriteNumber("connect_time", Info.Connect);
            w.WriteNumber("pretransfer_time", Info.PreTransfer);
            w.WriteNumber("starttransfer_time", Info.StartTransfer);
            w.WriteNumber("redirect_time", Info.Redirect);
            w.WriteNumber("redirect_count", Info.RedirectCount);
            w.WriteNumber("size_download", Info.SizeDownload);
            w.WriteNumber("size_upload", Info.SizeUpload);
            w.WriteNumber("speed_download", Info.SpeedDownload);
            w.WriteNumber("speed_upload", Info.SpeedUpload);
            w.WriteString("effective_url", EffectiveUrl);
            if (PrimaryIp is not null) w.WriteString("primary_ip", PrimaryIp);
            Saved?.Write(w);
            if (Cache is not null) w.WriteString("cache", Cache);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    internal static StoredResponse FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var headers = new List<HeaderEntry>();
        foreach (var h in root.GetProperty("raw_headers").EnumerateArray())
            headers.Add(new HeaderEntry(h.GetProperty("name").GetString()!, h.GetProperty("value").GetString()!));
        return new StoredResponse
        {
            StatusCode = root.GetProperty("status_code").GetInt32(),
            ContentType = OptionalString(root, "content_type"),
            RawHeaders = headers,
            BodyDecoded = root.TryGetProperty("body_decoded", out var d) && d.GetBoolean(),
            BodyBytes = root.GetProperty("body_bytes").GetInt64(),
            EffectiveUrl = root.GetProperty("effective_url").GetString()!,
            PrimaryIp = OptionalString(root, "primary_ip"),
            Cache = OptionalString(root, "cache"),
            Saved = root.TryGetProperty("saved", out var saved) && saved.ValueKind == JsonValueKind.Object ? SavedFile.Read(saved) : null,
            Info = new TransferInfo
            {
                Total = root.GetProperty("total_time").GetDouble(),
                NameLookup = root.GetProperty("namelookup_time").GetDouble(),
                Connect = root.GetProperty("connect_time").GetDouble(),
                PreTransfer = root.GetProperty("pretransfer_time").GetDouble(),
                StartTransfer = root.GetProperty("starttransfer_time").GetDouble(),
                Redirect = root.GetProperty("redirect_time").GetDouble(),
                RedirectCount = root.GetProperty("redirect_count").GetInt32(),
                SizeDownload = root.GetProperty("size_download").GetInt64(),
                SizeUpload = root.GetProperty("size_upload").GetInt64(),
                SpeedDownload = root.GetProperty("speed_download").GetDouble(),
                SpeedUpload = root.GetProperty("speed_upload").GetDouble(),
            },
        };
    }

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>A saved copy of a job's body: the storage id, its paths under downloads/ (first = by-job) and size.</summary>
public sealed record SavedFile(string Id, IReadOnlyList<string> Paths, long Size)
{
    /// <summary>Writes `"saved": {id, path, paths, size}`, the shape of the sync envelope's `saved`.</summary>
    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject("saved");
        w.WriteString("id", Id);
        w.WriteString("path", Paths.Count > 0 ? Paths[0] : "");
        w.WriteStartArray("paths");
        foreach (var path in Paths) w.WriteStringValue(path);
        w.WriteEndArray();
        w.WriteNumber("size", Size);
        w.WriteEndObject();
    }

    internal static SavedFile Read(JsonElement e) => new(
        e.GetProperty("id").GetString()!,
        [.. e.GetProperty("paths").EnumerateArray().Select(p => p.GetString()!)],
        e.GetProperty("size").GetInt64());
}

/// <summary>The `headers` map of decisions D4: lowercase keys, repeats joined with ", ".</summary>
public static class HeaderMap
{
    /// <summary>
    /// Lowercase name → value in first-seen order; repeated names are joined with ", ". set-cookie is
    /// left out: its entries cannot be joined safely and live in raw_headers only (decisions D4).
    /// </summary>
    public static List<KeyValuePair<string, string>> Build(IReadOnlyList<HeaderEntry> headers)
    {
        // One builder per name keeps this linear however often a name repeats.
        var order = new List<(string Name, System.Text.StringBuilder Value)>(headers.Count);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var h in headers)
        {
            var name = h.Name.ToLowerInvariant();
            if (name == "set-cookie") continue;
            if (index.TryGetValue(name, out var at)) order[at].Value.Append(", ").Append(h.Value);
            else
            {
                index[name] = order.Count;
                order.Add((name, new System.Text.StringBuilder(h.Value)));
            }
        }
        var map = new List<KeyValuePair<string, string>>(order.Count);
        foreach (var (name, value) in order) map.Add(new(name, value.ToString()));
        return map;
    }
}
