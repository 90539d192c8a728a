// The sessions module's settings, read once from flags by SessionsModule. To add a setting: a property
// here with its default in the XML doc, a flag in SessionsModule.AddFlags, its validation in Read.
namespace HoodyCurl.Sessions;

public sealed record SessionsOptions
{
    /// <summary>
    /// Seconds a deleted session id stays tombstoned (`--session-tombstone-secs`): requests and reads
    /// with it answer 404 "Session not found: &lt;id&gt; (tombstoned)" until then, after which the id can
    /// be created again (docs/api.md D13). 0 disables tombstones. Default 86400 (24 h).
    /// </summary>
    public int TombstoneSecs { get; init; } = 86_400;

    /// <summary>
    /// Most cookies kept in one jar (`--session-max-cookies`). Beyond it the cookies that expire first
    /// are dropped (cookies without an expiry count as expiring last). Default 1000.
    /// </summary>
    public int MaxCookies { get; init; } = 1000;

    /// <summary>
    /// Most sessions stored at once (`--max-sessions`). Creating one more answers 503 TOO_MANY_SESSIONS
    /// (existing sessions keep working). Default 10,000.
    /// </summary>
    public int MaxSessions { get; init; } = 10_000;

    /// <summary>
    /// Days a session may stay unused before a periodic sweep removes it (`--session-idle-days`); 0 (the
    /// default) keeps sessions until deleted.
    /// </summary>
    public int IdleDays { get; init; }
}
