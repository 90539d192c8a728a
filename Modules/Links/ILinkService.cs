// The links module's public face: create, read, revoke links and read their history. Opening a link
// is the /l/<token> door's business (Endpoints/LinkDoor.cs).
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Links;

public interface ILinkService
{
    /// <summary>
    /// Stores a new link after the SSRF pre-check of its request (403 SSRF_BLOCKED) and returns it with
    /// its token. The token is not kept (only its SHA-256): this is the one time it is known.
    /// </summary>
    CreatedLink Create(LinkDraft draft);

    /// <summary>The link (revoked ones too), or null when there is no such link.</summary>
    LinkRecord? Get(string id);

    /// <summary>Links newest first, paged.</summary>
    LinkPage List(int page, int? limit);

    /// <summary>Revokes the link: its token answers 404 from now on. False when there is no such link.</summary>
    bool Revoke(string id);

    /// <summary>History entries of the link after entry id <paramref name="after"/>, oldest first; null when there is no such link.</summary>
    LinkHistoryPage? History(string id, long after, int? limit);
}

/// <summary>A validated create body.</summary>
public sealed record LinkDraft
{
    public required CurlRequest Request { get; init; }
    public string? Name { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public long? MaxUses { get; init; }
    public IReadOnlyList<string> Methods { get; init; } = ["GET"];
    public IReadOnlyList<LinkParam> Params { get; init; } = [];
    public bool ForwardBody { get; init; }
}

/// <summary>The new link and its token (shown once).</summary>
public sealed record CreatedLink(LinkRecord Link, string Token)
{
    public string Path => "/l/" + Token;
}
