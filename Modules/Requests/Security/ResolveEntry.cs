using System.Buffers;
using System.Net;

namespace HoodyCurl.Requests.Security;

/// <summary>
/// One <c>--resolve HOST:PORT:ADDR</c> override, as curl's <c>--resolve</c> (IPv6 ADDR may be bracketed). One
/// address per entry; <see cref="Host"/> is lowercased.
/// </summary>
public sealed record ResolveEntry(string Host, int Port, IPAddress Address)
{
    private static readonly SearchValues<char> HostChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._");

    public static bool TryParse(string text, out ResolveEntry? entry, out string? error)
    {
        entry = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty entry";
            return false;
        }

        int first = text.IndexOf(':');
        int second = first < 0 ? -1 : text.IndexOf(':', first + 1);
        if (second < 0)
        {
            error = "expected HOST:PORT:ADDR";
            return false;
        }

        ReadOnlySpan<char> host = text.AsSpan(0, first);
        ReadOnlySpan<char> portText = text.AsSpan(first + 1, second - first - 1);
        ReadOnlySpan<char> addressText = text.AsSpan(second + 1);
        if (host.IsEmpty || host.ContainsAnyExcept(HostChars))
        {
            error = "HOST must be a host name";
            return false;
        }

        if (!TryParsePort(portText, out int port))
        {
            error = "PORT must be a number from 1 to 65535";
            return false;
        }

        if (addressText.Contains(','))
        {
            error = "only one address per entry";
            return false;
        }

        if (!StrictIpParser.TryParse(addressText, allowBrackets: true, out IPAddress? address, out error))
        {
            error = $"ADDR: {error}";
            return false;
        }

        entry = new ResolveEntry(host.ToString().ToLowerInvariant(), port, address!);
        return true;
    }

    /// <summary>The entry as <c>CURLOPT_RESOLVE</c> takes it.</summary>
    public string ToCurlFormat() =>
        IpBits.IsV6(Address) ? $"{Host}:{Port}:[{Address}]" : $"{Host}:{Port}:{Address}";

    /// <summary>Whether a URL's host and port are the ones this entry overrides (a trailing dot does not matter).</summary>
    internal bool Matches(string host, int port) =>
        port == Port && host.AsSpan().TrimEnd('.').Equals(Host.AsSpan().TrimEnd('.'), StringComparison.OrdinalIgnoreCase);

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port)
    {
        port = 0;
        if (text.IsEmpty || text.Length > 5 || text.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        port = int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        return port is >= 1 and <= 65535;
    }
}
