using System.Net;

namespace HoodyCurl.Requests.Security;

/// <summary>
/// The SSRF policy of docs/api.md D11. Immutable and thread-safe. <see cref="CheckAddress"/> runs on libcurl's
/// transfer thread for every connection: no DNS, no LINQ, and allowed verdicts are shared instances.
/// </summary>
public sealed class SsrfGuard
{
    private readonly AddressRange[] _allow;
    private readonly AddressRange[] _deny;
    private readonly OwnEndpoint[] _own;
    private readonly ResolveEntry[] _resolve;
    private readonly IReadOnlyList<ResolveEntry> _resolveView;
    private readonly bool _allowPrivateNetworks;

    public SsrfGuard(SsrfOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _allow = ParseCidrs(options.AllowCidrs, "--allow-cidr", SsrfRules.AllowCidr);
        _deny = ParseCidrs(options.DenyCidrs, "--deny-cidr", SsrfRules.DenyCidr);
        _resolve = ParseResolve(options.Resolve);
        _resolveView = Array.AsReadOnly(_resolve);
        _own = ParseOwn(options.OwnEndpoints);
        _allowPrivateNetworks = options.AllowPrivateNetworks;
    }

    public IReadOnlyList<ResolveEntry> ResolveEntries => _resolveView;

    public SsrfVerdict CheckAddress(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        UInt128 bits = IpBits.ToBits(address);
        bool isV6 = IpBits.IsV6(address);
        if (isV6 && IpBits.IsMappedV4(bits))
        {
            isV6 = false;
            bits &= uint.MaxValue;
        }

        uint embedded = 0;
        bool byAllowCidr;
        string? rule = isV6
            ? EvaluateV6(bits, port, out byAllowCidr, out embedded)
            : EvaluateV4((uint)bits, port, out byAllowCidr);
        if (rule is null)
        {
            return byAllowCidr ? SsrfVerdict.AllowedByCidr : SsrfVerdict.AllowedByDefault;
        }

        return new SsrfVerdict(false, rule, address.ToString())
        {
            Detail = rule.StartsWith(SsrfRules.Ipv4EmbeddedPrefix, StringComparison.Ordinal)
                ? $"embedded IPv4 {IpBits.FromV4(embedded)}"
                : null,
        };
    }

    public SsrfVerdict CheckUrl(string url, out CanonicalUrl? canonical)
    {
        canonical = null;
        if (!UrlCanonicalizer.TryGetScheme(url, out string scheme))
        {
            return UrlDenied(SsrfRules.InvalidUrl, "URL has no scheme");
        }

        if (scheme is not ("http" or "https"))
        {
            return UrlDenied(SsrfRules.Scheme, $"scheme '{scheme}' is not allowed, only http and https");
        }

        if (!UrlCanonicalizer.TryParse(url, out canonical, out string? error))
        {
            return UrlDenied(SsrfRules.InvalidUrl, error);
        }

        CanonicalUrl parsed = canonical!;
        if (parsed.LiteralAddress is not null)
        {
            return CheckAddress(parsed.LiteralAddress, parsed.Port);
        }

        foreach (ResolveEntry entry in _resolve)
        {
            if (entry.Matches(parsed.Host, parsed.Port))
            {
                return CheckAddress(entry.Address, parsed.Port);
            }
        }

        ReadOnlySpan<char> name = parsed.Host.AsSpan().TrimEnd('.');
        if (name.SequenceEqual("localhost") || name.EndsWith(".localhost", StringComparison.Ordinal))
        {
            // RFC 6761 §6.3: localhost names resolve to loopback, whatever DNS says. A name is judged by the
            // addresses it resolves to under the same rules, so an --allow-cidr covering 127.0.0.1 or ::1
            // lets it through; the connect-time check then decides on the address libcurl really uses.
            SsrfVerdict v4 = CheckAddress(IPAddress.Loopback, parsed.Port);
            if (v4.Allowed)
            {
                return v4;
            }

            SsrfVerdict v6 = CheckAddress(IPAddress.IPv6Loopback, parsed.Port);
            if (v6.Allowed)
            {
                return v6;
            }

            return v4.Rule == SsrfRules.Loopback ? UrlDenied(SsrfRules.Loopback, $"host {parsed.Host} is loopback") : v4;
        }

        return SsrfVerdict.AllowedByDefault;
    }

    private string? EvaluateV4(uint address, int port, out bool byAllowCidr)
    {
        byAllowCidr = false;
        if (IsOwn(isV6: false, address, port))
        {
            return SsrfRules.OwnAddress;
        }

        if (AddressRange.FirstMatch(_deny, isV6: false, address) is not null)
        {
            return SsrfRules.DenyCidr;
        }

        if (AddressRange.FirstMatch(_allow, isV6: false, address) is not null)
        {
            byAllowCidr = true;
            return null;
        }

        return Lift(DefaultDenyList.ClassifyV4(address));
    }

    private string? EvaluateV6(UInt128 address, int port, out bool byAllowCidr, out uint embedded)
    {
        byAllowCidr = false;
        embedded = 0;
        if (IsOwn(isV6: true, address, port))
        {
            return SsrfRules.OwnAddress;
        }

        if (AddressRange.FirstMatch(_deny, isV6: true, address) is not null)
        {
            return SsrfRules.DenyCidr;
        }

        Span<uint> inner = stackalloc uint[EmbeddedIpv4.MaxCandidates];
        int count = EmbeddedIpv4.Extract(address, inner);

        // Deny wins over allow, also for a denied IPv4 inside an allowed IPv6 range.
        for (int i = 0; i < count; i++)
        {
            if (AddressRange.FirstMatch(_deny, isV6: false, inner[i]) is not null)
            {
                embedded = inner[i];
                return SsrfRules.Embedded(SsrfRules.DenyCidr);
            }
        }

        if (AddressRange.FirstMatch(_allow, isV6: true, address) is not null)
        {
            byAllowCidr = true;
            return null;
        }

        string? rule = Lift(DefaultDenyList.ClassifyV6(address));
        if (rule is not null)
        {
            return rule;
        }

        for (int i = 0; i < count; i++)
        {
            string? innerRule = EvaluateV4(inner[i], port, out _);
            if (innerRule is not null)
            {
                embedded = inner[i];
                return SsrfRules.Embedded(innerRule);
            }
        }

        return null;
    }

    private string? Lift(string? rule) =>
        rule is not null && _allowPrivateNetworks && SsrfRules.IsPrivateNetwork(rule) ? null : rule;

    /// <summary>
    /// The sidecar itself: the exact endpoint, and when it listens on an unspecified address, any loopback or
    /// unspecified address on its port (connecting to 0.0.0.0 or :: reaches the local host on Linux).
    /// </summary>
    private bool IsOwn(bool isV6, UInt128 address, int port)
    {
        bool unspecified = address == UInt128.Zero;
        bool loopback = isV6 ? address == UInt128.One : (address >> 24) == 127;
        foreach (OwnEndpoint own in _own)
        {
            if (own.Port != port)
            {
                continue;
            }

            if ((own.IsV6 == isV6 && own.Address == address)
                || (own.IsUnspecified && (unspecified || loopback))
                || (own.IsLoopback && unspecified))
            {
                return true;
            }
        }

        return false;
    }

    private static SsrfVerdict UrlDenied(string rule, string? detail) => new(false, rule, null) { Detail = detail };

    private static AddressRange[] ParseCidrs(IReadOnlyList<string>? cidrs, string flag, string rule)
    {
        if (cidrs is null)
        {
            return [];
        }

        var ranges = new AddressRange[cidrs.Count];
        for (int i = 0; i < ranges.Length; i++)
        {
            string text = cidrs[i];
            if (!IpNetwork.TryParse(text, out IpNetwork network, out string? error))
            {
                throw new ArgumentException($"{flag}: '{text}' is not a CIDR ({error})");
            }

            ranges[i] = AddressRange.From(UnwrapMapped(network), rule);
        }

        return ranges;
    }

    /// <summary>Checked addresses have IPv4-mapped forms unwrapped, so a CIDR written in that form is unwrapped too.</summary>
    private static IpNetwork UnwrapMapped(IpNetwork network)
    {
        if (!network.IsV6 || network.PrefixLength < 96 || !IpBits.IsMappedV4(IpBits.ToBits(network.Prefix)))
        {
            return network;
        }

        return new IpNetwork(IpBits.FromV4((uint)IpBits.ToBits(network.Prefix)), network.PrefixLength - 96);
    }

    private static ResolveEntry[] ParseResolve(IReadOnlyList<string>? entries)
    {
        if (entries is null)
        {
            return [];
        }

        var parsed = new ResolveEntry[entries.Count];
        for (int i = 0; i < parsed.Length; i++)
        {
            string text = entries[i];
            if (!ResolveEntry.TryParse(text, out ResolveEntry? entry, out string? error))
            {
                throw new ArgumentException($"--resolve: '{text}' is not HOST:PORT:ADDR ({error})");
            }

            parsed[i] = entry!;
        }

        return parsed;
    }

    private static OwnEndpoint[] ParseOwn(IReadOnlyList<IPEndPoint>? endpoints)
    {
        if (endpoints is null)
        {
            return [];
        }

        var own = new OwnEndpoint[endpoints.Count];
        for (int i = 0; i < own.Length; i++)
        {
            IPEndPoint endpoint = endpoints[i] ?? throw new ArgumentException("--listen: null endpoint");
            UInt128 bits = IpBits.ToBits(endpoint.Address);
            bool isV6 = IpBits.IsV6(endpoint.Address);
            if (isV6 && IpBits.IsMappedV4(bits))
            {
                isV6 = false;
                bits &= uint.MaxValue;
            }

            bool loopback = isV6 ? bits == UInt128.One : (bits >> 24) == 127;
            own[i] = new OwnEndpoint(isV6, bits, endpoint.Port, bits == UInt128.Zero, loopback);
        }

        return own;
    }

    private readonly record struct OwnEndpoint(bool IsV6, UInt128 Address, int Port, bool IsUnspecified, bool IsLoopback);
}
