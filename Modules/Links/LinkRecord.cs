// A link as the store keeps it. The request keeps its secrets here (the database file is mode 0600);
// only the JSON writers redact (docs/api.md D9 and LinkRedaction). The token itself is never kept.
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Links;

public enum ParamLocation { Query, Header, Body }

/// <summary>One declared parameter: where its value goes, whether it must be given, what it must match.</summary>
/// <summary>A declared parameter; stored (links.params) and shown as {name, in, required, pattern}.</summary>
public sealed record LinkParam(
    string Name,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(HoodyCurl.Kernel.Json.LowerEnumValueConverter<ParamLocation>))] ParamLocation In,
    bool Required,
    string? Pattern)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public string InText => In switch { ParamLocation.Query => "query", ParamLocation.Header => "header", _ => "body" };
}

public sealed record LinkRecord
{
    public required string Id { get; init; }
    public string? Name { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public long? MaxUses { get; init; }
    public long UseCount { get; init; }
    public DateTimeOffset? LastUsedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    /// <summary>Upper-case verbs the link answers to (default GET only).</summary>
    public required IReadOnlyList<string> Methods { get; init; }
    public required IReadOnlyList<LinkParam> Params { get; init; }
    /// <summary>Send the opener's body upstream (webhook relay), within --max-request-body-bytes.</summary>
    public bool ForwardBody { get; init; }
    /// <summary>The stored request, secrets included; its Mode is the link's mode.</summary>
    public required CurlRequest Request { get; init; }

    public ExecutionMode Mode => Request.Mode ?? ExecutionMode.Sync;

    /// <summary>"active", "expired", "used_up" or "revoked" at <paramref name="now"/>.</summary>
    public string State(DateTimeOffset now) =>
        RevokedAt is not null ? "revoked" :
        ExpiresAt is { } e && e <= now ? "expired" :
        MaxUses is { } m && UseCount >= m ? "used_up" :
        "active";
}

/// <summary>One opening of a link that got past its checks and ran (or was queued).</summary>
public sealed record LinkHistoryEntry
{
    public required long Id { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? Caller { get; init; }
    public required string Method { get; init; }
    /// <summary>The status the opener got; null while running or when a crash interrupted it.</summary>
    public int? Status { get; init; }
    public string? JobId { get; init; }
    /// <summary>Body bytes sent back to the opener.</summary>
    public long? Bytes { get; init; }
    /// <summary>Body bytes the opener sent and the link forwarded (forward_body).</summary>
    public long? RequestBytes { get; init; }
    public long? DurationMs { get; init; }
    /// <summary>The sidecar's error code when the opening failed (SSRF_BLOCKED, UPSTREAM_ERROR, …), or INTERRUPTED.</summary>
    public string? Error { get; init; }
}

public sealed record LinkPage(IReadOnlyList<LinkRecord> Items, long Total);

public sealed record LinkHistoryPage(IReadOnlyList<LinkHistoryEntry> Items, long Total);
