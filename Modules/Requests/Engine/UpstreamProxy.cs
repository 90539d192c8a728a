// The optional outbound proxy (--upstream-proxy). libcurl would otherwise take a proxy from http_proxy,
// https_proxy or ALL_PROXY in the environment, and then the connect-time SSRF check would only ever see the
// proxy's address, never the target's. So the environment is ignored on every handle (CURLOPT_PROXY "" and
// CURLOPT_NOPROXY ""), and an operator who wants a proxy names it with the flag. Under a proxy the sidecar
// resolves and checks every target host itself: before the transfer starts, and again in libcurl's
// pre-request callback for each redirect hop to a host not checked yet. Residual risk (README): the proxy
// resolves the name again, so a DNS answer that changes between our check and the proxy's lookup is not seen.
using System.Net;
using System.Net.Sockets;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Engine;

internal sealed class UpstreamProxy
{
    /// <summary>How long the target's own DNS lookup may take before the request fails.</summary>
    internal static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private readonly IPAddress[] _addresses;

    private UpstreamProxy(string url, string display, string host, int port, IPAddress[] addresses)
    {
        Url = url;
        Display = display;
        Host = host;
        Port = port;
        _addresses = addresses;
    }

    /// <summary>The URL as handed to CURLOPT_PROXY (may hold credentials: never log it).</summary>
    public string Url { get; }
    /// <summary>The URL without userinfo, for logs.</summary>
    public string Display { get; }
    public string Host { get; }
    public int Port { get; }

    /// <summary>
    /// Parses the flag value: http://, https:// or socks5h:// (schemes where the proxy, not libcurl, resolves the
    /// target), a host and an explicit port. Throws <see cref="ArgumentException"/> with a message for the flag.
    /// The proxy's host is resolved once here; connections to those addresses on that port are the only ones the
    /// connect-time guard lets through without a policy check (the operator chose this proxy).
    /// </summary>
    public static UpstreamProxy Parse(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "socks5h"))
            throw new ArgumentException("must be a URL like http://HOST:PORT (schemes: http, https, socks5h)");
        if (string.IsNullOrEmpty(uri.Host)) throw new ArgumentException("has no host");
        var authority = value[(value.IndexOf("//", StringComparison.Ordinal) + 2)..];
        var hostPort = authority.Split('/', '?', '#')[0];
        hostPort = hostPort[(hostPort.LastIndexOf('@') + 1)..];
        if (!hostPort.Contains(':', StringComparison.Ordinal) || hostPort.EndsWith(']'))
            throw new ArgumentException("must name the port explicitly (http://HOST:PORT)");
        if (uri.AbsolutePath is not ("/" or "") || uri.Query.Length > 0)
            throw new ArgumentException("must not have a path or query");
        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = Dns.GetHostAddresses(host);
            }
            catch (SocketException e)
            {
                throw new ArgumentException($"host '{host}' does not resolve ({e.SocketErrorCode})");
            }
            if (addresses.Length == 0) throw new ArgumentException($"host '{host}' does not resolve");
        }
        var display = $"{uri.Scheme}://{(uri.HostNameType == UriHostNameType.IPv6 ? "[" + host + "]" : host)}:{uri.Port}";
        return new UpstreamProxy(value, display, host, uri.Port, addresses);
    }

    /// <summary>True when a connection goes to the configured proxy itself.</summary>
    public bool IsProxyEndpoint(IPAddress address, int port)
    {
        if (port != Port) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var a in _addresses)
        {
            var known = a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
            if (known.Equals(address)) return true;
        }
        return false;
    }

    /// <summary>
    /// Resolves <paramref name="target"/> the way libcurl would (--resolve entries first) and checks every address
    /// with the guard. Returns null when all are allowed, the denying verdict otherwise; throws
    /// <see cref="TargetUnresolvedException"/> when the name does not resolve.
    /// </summary>
    public static async Task<SsrfVerdict?> CheckTargetAsync(SsrfGuard guard, CanonicalUrl target, CancellationToken cancellationToken)
    {
        if (target.LiteralAddress is { } literal) return Denied(guard.CheckAddress(literal, target.Port));
        var pinned = Pinned(guard, target);
        if (pinned.Count > 0) return Check(guard, pinned, target.Port);
        IPAddress[] addresses;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ResolveTimeout);
        try
        {
            addresses = await Dns.GetHostAddressesAsync(target.Host, timeout.Token).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new TargetUnresolvedException(target.Host, e.SocketErrorCode.ToString());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TargetUnresolvedException(target.Host, "lookup timed out");
        }
        if (addresses.Length == 0) throw new TargetUnresolvedException(target.Host, "no addresses");
        return Check(guard, addresses, target.Port);
    }

    /// <summary>
    /// The blocking form, for the pre-request callback on a redirect to a new host (bounded by the timeout; it
    /// holds that transfer thread, which only happens for cross-host redirects under a proxy).
    /// </summary>
    public static SsrfVerdict? CheckTarget(SsrfGuard guard, CanonicalUrl target) =>
        CheckTargetAsync(guard, target, CancellationToken.None).GetAwaiter().GetResult();

    private static List<IPAddress> Pinned(SsrfGuard guard, CanonicalUrl target)
    {
        var pinned = new List<IPAddress>();
        foreach (var entry in guard.ResolveEntries)
            if (entry.Port == target.Port && string.Equals(entry.Host, target.Host, StringComparison.OrdinalIgnoreCase)) pinned.Add(entry.Address);
        return pinned;
    }

    private static SsrfVerdict? Check(SsrfGuard guard, IReadOnlyList<IPAddress> addresses, int port)
    {
        foreach (var address in addresses)
            if (Denied(guard.CheckAddress(address, port)) is { } denied) return denied;
        return null;
    }

    private static SsrfVerdict? Denied(SsrfVerdict verdict) => verdict.Allowed ? null : verdict;
}

/// <summary>The target host of a proxied request does not resolve: a 502, like libcurl's own resolve failure.</summary>
internal sealed class TargetUnresolvedException(string host, string reason)
    : Exception($"could not resolve host '{host}' ({reason})");
