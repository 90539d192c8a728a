// What the engine needs from the sessions module (DESIGN.md: Kernel <- Sessions <- Requests): an
// exclusive lease on a session's cookie jar for the length of one transfer, so that concurrent
// requests on one session are serialised and no cookie update is lost (docs/api.md D13).
using HoodyCurl.Kernel.Errors;

namespace HoodyCurl.Sessions;

public interface ISessionStore
{
    /// <summary>
    /// Waits (FIFO) until no other transfer holds <paramref name="sessionId"/>, then hands out its jar.
    /// Creates the session when it does not exist. Throws <see cref="ApiErrorException"/> 400 for an id
    /// outside D13's rule and 404 SESSION_NOT_FOUND "Session not found: &lt;id&gt; (tombstoned)" while the
    /// id is tombstoned; <see cref="OperationCanceledException"/> when cancelled while waiting.
    /// Dispose the lease on every path (it is idempotent).
    /// </summary>
    Task<ISessionLease> AcquireAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// A cheap check without waiting or creating anything: the error a request on
    /// <paramref name="sessionId"/> would get (bad id 400, tombstoned 404), or null when it may run.
    /// </summary>
    ApiError? CheckUsable(string sessionId);
}

/// <summary>Exclusive use of one session's jar; release it by disposing.</summary>
public interface ISessionLease : IDisposable
{
    string SessionId { get; }

    /// <summary>The jar as Netscape cookie-file lines (expired cookies already dropped), for CURLOPT_COOKIELIST.</summary>
    IReadOnlyList<string> Cookies { get; }

    /// <summary>
    /// Stores the jar after a successful transfer (the lines of CURLINFO_COOKIELIST). Expired cookies
    /// (incl. Max-Age=0 deletions) are dropped; `last_used` moves only when the jar changed. A session
    /// deleted while the transfer ran stays deleted. Never throws for a storage failure: that is logged
    /// and the jar keeps its previous cookies.
    /// </summary>
    void Persist(IReadOnlyList<string> cookieLines);
}
