using System.Net;

namespace HoodyCurl.Requests.Security;

/// <summary>
/// A URL as the SSRF guard sees it. <see cref="Host"/> is lowercased (IDN left as given), the canonical address
/// text when the host is an IP literal (IPv6 without brackets). <see cref="LiteralAddress"/> is set for every
/// IP literal spelling. <see cref="Normalized"/> is <c>scheme://host[:port]/path?query</c> without userinfo or
/// fragment, safe to log.
/// </summary>
public sealed record CanonicalUrl(string Scheme, string Host, int Port, IPAddress? LiteralAddress, string Normalized);
