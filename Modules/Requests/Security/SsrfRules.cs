namespace HoodyCurl.Requests.Security;

/// <summary>The stable rule names of <see cref="SsrfVerdict.Rule"/>: metric labels and 403 message words.</summary>
public static class SsrfRules
{
    public const string Allowed = "allowed";
    public const string AllowCidr = "allow_cidr";
    public const string DenyCidr = "deny_cidr";
    public const string Loopback = "loopback";
    public const string Unspecified = "unspecified";
    public const string Private = "private";
    public const string Cgnat = "cgnat";
    public const string LinkLocal = "link_local";
    public const string Metadata = "metadata";
    public const string Multicast = "multicast";
    public const string Broadcast = "broadcast";
    public const string Reserved = "reserved";
    public const string UniqueLocal = "unique_local";
    public const string SiteLocal = "site_local";
    public const string Ipv6LinkLocal = "ipv6_link_local";
    public const string Ipv4EmbeddedPrefix = "ipv4_embedded:";
    public const string OwnAddress = "own_address";
    public const string Scheme = "scheme";
    public const string InvalidUrl = "invalid_url";

    /// <summary>The rule for an IPv6 address whose embedded IPv4 address is denied by <paramref name="innerRule"/>.</summary>
    public static string Embedded(string innerRule) => Ipv4EmbeddedPrefix + innerRule;

    /// <summary>The rules that <c>--allow-private-networks</c> lifts.</summary>
    public static bool IsPrivateNetwork(string rule) => rule is Private or Cgnat or UniqueLocal;
}
