// The links module's JSON, source-generated (no reflection in the AOT binary): the link record and the
// history entry of the API, and the stored params column. The token appears in one answer only: the
// create answer's `path`.
using System.Text.Json.Serialization;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Links;

/// <summary>A link as the API shows it (request redacted); link_id and path only in the create answer.</summary>
internal sealed record LinkView(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LinkId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Path,
    string Id,
    string? Name,
    string State,
    string CreatedAt,
    string? ExpiresAt,
    long? MaxUses,
    long UseCount,
    string? LastUsedAt,
    string? RevokedAt,
    IReadOnlyList<string> Methods,
    IReadOnlyList<LinkParam> Params,
    bool ForwardBody,
    string Mode,
    [property: JsonConverter(typeof(CurlRequestApiConverter))] CurlRequest Request);

/// <summary>One opening of a link; fields not known yet (a running or interrupted call) are null.</summary>
internal sealed record LinkHistoryView(
    long Id, string At, string? Caller, string Method, int? Status, string? JobId, long? Bytes, long? RequestBytes,
    long? DurationMs, string? Error);

internal sealed record LinkRevokedView(string Message, string Id);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(LinkView))]
[JsonSerializable(typeof(LinkHistoryView))]
[JsonSerializable(typeof(LinkRevokedView))]
[JsonSerializable(typeof(IReadOnlyList<LinkParam>))]
internal sealed partial class LinksJsonContext : JsonSerializerContext;
