using System.Net;

namespace HoodyCurl.Requests.Security;

/// <summary>
/// Flag-level SSRF policy input, built by the module from <c>--allow-cidr</c>, <c>--deny-cidr</c>,
/// <c>--allow-private-networks</c>, <c>--resolve</c> and <c>--listen</c>. Validated by <see cref="SsrfGuard"/>.
/// </summary>
public sealed record SsrfOptions
{
    /// <summary>CIDR blocks allowed despite the default deny list; a bare address is a /32 or /128.</summary>
    public IReadOnlyList<string> AllowCidrs { get; init; } = [];

    /// <summary>CIDR blocks always denied; deny wins over allow.</summary>
    public IReadOnlyList<string> DenyCidrs { get; init; } = [];

    /// <summary>Lifts only RFC 1918, CGNAT and IPv6 ULA; loopback, link-local, metadata and the rest stay denied.</summary>
    public bool AllowPrivateNetworks { get; init; }

    /// <summary><c>HOST:PORT:ADDR</c> overrides, as curl's <c>--resolve</c>.</summary>
    public IReadOnlyList<string> Resolve { get; init; } = [];

    /// <summary>The sidecar's own listen endpoints; an unspecified address means every local address on that port.</summary>
    public IReadOnlyList<IPEndPoint> OwnEndpoints { get; init; } = [];
}
