// The link API's operations over the store: creation (SSRF pre-check, token, durable insert),
// revocation, and the claim/finish pair the /l/ door uses around each opening.
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Time;
using HoodyCurl.Requests;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Links;

internal sealed class LinkService(LinkStore store, IRequestExecutor executor, LinkMetrics metrics, LinksOptions options,
    TimeProvider time, ILogger log) : ILinkService
{
    public LinksOptions Options => options;

    public DateTimeOffset Now => time.GetUtcNow();

    public CreatedLink Create(LinkDraft draft)
    {
        if (executor.Precheck(draft.Request) is { } refused) throw new ApiErrorException(refused);
        var token = LinkToken.New();
        var link = new LinkRecord
        {
            Id = Ids.New(),
            Name = draft.Name,
            CreatedAt = TruncateToMs(Now),
            ExpiresAt = draft.ExpiresAt is { } e ? TruncateToMs(e) : null,
            MaxUses = draft.MaxUses,
            Methods = draft.Methods,
            Params = draft.Params,
            ForwardBody = draft.ForwardBody,
            Request = draft.Request,
        };
        store.Insert(link, LinkToken.Hash(token));
        metrics.Created.Inc();
        Log.Created(log, link.Id, string.Join(',', link.Methods), link.Mode.ToString().ToLowerInvariant(),
            link.MaxUses?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none",
            link.ExpiresAt is { } x ? Rfc3339.Format(x) : "never", link.Params.Count);
        return new CreatedLink(link, token);
    }

    public LinkRecord? Get(string id) => Ids.IsUuid(id) ? store.Get(id) : null;

    public LinkPage List(int page, int? limit) => store.List(page, limit);

    public bool Revoke(string id)
    {
        if (!Ids.IsUuid(id)) return false;
        var existing = store.Get(id);
        if (existing is null) return false;
        if (existing.RevokedAt is not null) return true;
        if (!store.Revoke(id, Now)) return false;
        metrics.Revoked.Inc();
        Log.Revoked(log, id);
        return true;
    }

    public LinkHistoryPage? History(string id, long after, int? limit) =>
        Get(id) is null ? null : store.History(id, after, limit);

    /// <summary>The live (unrevoked) link behind a presented token, or null (malformed, unknown or revoked).</summary>
    public LinkRecord? Find(string token) => LinkToken.IsWellFormed(token) ? store.FindByToken(token) : null;

    /// <summary>Claims a use; the history entry id, or null when the link stopped being usable (re-read it to know why).</summary>
    public long? Claim(LinkRecord link, string? caller, string method) =>
        store.Claim(link.Id, Now, caller, method, options.HistoryMax);

    public void Finish(long entry, int status, string? jobId, long bytes, long? requestBytes, long durationMs, string? error) =>
        store.Finish(entry, status, jobId, bytes, requestBytes, durationMs, error);

    private static DateTimeOffset TruncateToMs(DateTimeOffset value) =>
        new(value.UtcTicks - value.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
}
