namespace HoodyCurl.Requests.Security;

/// <summary>
/// The outcome of an SSRF check. <see cref="Rule"/> is one of <see cref="SsrfRules"/>; <see cref="Address"/> is
/// the checked address on denials by address (allowed verdicts are shared instances, so the connect path does
/// not allocate); <see cref="Detail"/> says more when there is more to say (embedded IPv4, URL error).
/// </summary>
public sealed record SsrfVerdict(bool Allowed, string Rule, string? Address)
{
    internal static readonly SsrfVerdict AllowedByDefault = new(true, SsrfRules.Allowed, null);
    internal static readonly SsrfVerdict AllowedByCidr = new(true, SsrfRules.AllowCidr, null);

    public string? Detail { get; init; }

    /// <summary>Human text for the 403 message and the log line.</summary>
    public string Describe()
    {
        string subject = Address is null ? "URL" : $"address {Address}";
        string verb = Allowed ? "is allowed by rule" : "is blocked by rule";
        return Detail is null ? $"{subject} {verb} {Rule}" : $"{subject} {verb} {Rule} ({Detail})";
    }
}
