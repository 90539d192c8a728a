using System.Buffers;
using System.Net;
using System.Text;

namespace HoodyCurl.Requests.Security;

/// <summary>
/// Parses an absolute URL the way the SSRF pre-check needs it: scheme, host and port, with every IP literal
/// spelling that browsers and libcurl accept recognised. Strict where parsers disagree (backslashes or a second
/// '@' in the authority, a bare ':' in a host): such URLs are rejected rather than guessed at. The connect-time
/// check stays the authority; this only makes the common case fail fast.
/// </summary>
internal static class UrlCanonicalizer
{
    public const int MaxLength = 8192;

    // RFC 3986 §3.1 scheme characters after the first letter.
    private static readonly SearchValues<char> SchemeChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

    // libcurl's hostname_check refuses the rest of ASCII punctuation; so do we.
    private static readonly SearchValues<char> HostAsciiChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~");

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The lowercased scheme, when the text starts with one followed by ':'.</summary>
    public static bool TryGetScheme(string? url, out string scheme)
    {
        scheme = string.Empty;
        if (string.IsNullOrEmpty(url) || !char.IsAsciiLetter(url[0]))
        {
            return false;
        }

        int end = url.AsSpan().IndexOfAnyExcept(SchemeChars);
        if (end <= 0 || url[end] != ':')
        {
            return false;
        }

        // The two schemes every request names come back as shared strings (two allocations per request before, issue 13).
        var text = url.AsSpan(0, end);
        scheme = text.Equals("http", StringComparison.OrdinalIgnoreCase) ? "http"
            : text.Equals("https", StringComparison.OrdinalIgnoreCase) ? "https"
            : text.ToString().ToLowerInvariant();
        return true;
    }

    public static bool TryParse(string url, out CanonicalUrl? canonical, out string? error)
    {
        canonical = null;
        error = CheckText(url);
        if (error is not null)
        {
            return false;
        }

        if (!TryGetScheme(url, out string scheme))
        {
            error = "URL has no scheme";
            return false;
        }

        int authorityStart = scheme.Length + 1;
        if (!url.AsSpan(authorityStart).StartsWith("//"))
        {
            error = "expected '//' after the scheme";
            return false;
        }

        authorityStart += 2;
        int authorityEnd = url.AsSpan(authorityStart).IndexOfAny('/', '?', '#');
        authorityEnd = authorityEnd < 0 ? url.Length : authorityStart + authorityEnd;
        ReadOnlySpan<char> authority = url.AsSpan(authorityStart, authorityEnd - authorityStart);
        if (authority.Contains('\\'))
        {
            error = "backslash in the authority";
            return false;
        }

        int at = authority.LastIndexOf('@');
        if (at >= 0 && authority.IndexOf('@') != at)
        {
            error = "more than one '@' in the authority";
            return false;
        }

        ReadOnlySpan<char> hostPort = authority[(at + 1)..];
        if (!TrySplitHostPort(hostPort, out ReadOnlySpan<char> hostText, out ReadOnlySpan<char> portText, out bool bracketed, out error)
            || !TryParsePort(portText, scheme, out int port, out error)
            || !TryReadHost(hostText, bracketed, out string host, out IPAddress? literal, out error))
        {
            return false;
        }

        canonical = new CanonicalUrl(scheme, host, port, literal, Normalize(url, scheme, host, literal, port, authorityEnd));
        return true;
    }

    private static string? CheckText(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return "empty URL";
        }

        if (url.Length > MaxLength)
        {
            return $"URL longer than {MaxLength} characters";
        }

        for (int i = 0; i < url.Length; i++)
        {
            char c = url[i];
            if (c <= ' ' || char.IsControl(c) || char.IsWhiteSpace(c))
            {
                return "URL contains a space or a control character";
            }

            if (char.IsHighSurrogate(c) && i + 1 < url.Length && char.IsLowSurrogate(url[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return "URL is not valid Unicode";
            }
        }

        return null;
    }

    private static bool TrySplitHostPort(
        ReadOnlySpan<char> hostPort, out ReadOnlySpan<char> host, out ReadOnlySpan<char> port, out bool bracketed, out string? error)
    {
        host = hostPort;
        port = default;
        error = null;
        bracketed = hostPort.StartsWith('[');
        if (bracketed)
        {
            int close = hostPort.IndexOf(']');
            if (close < 0)
            {
                error = "unterminated '[' in the host";
                return false;
            }

            host = hostPort[1..close];
            ReadOnlySpan<char> rest = hostPort[(close + 1)..];
            if (!rest.IsEmpty && rest[0] != ':')
            {
                error = "unexpected text after ']'";
                return false;
            }

            port = rest.IsEmpty ? default : rest[1..];
            return true;
        }

        int colon = hostPort.IndexOf(':');
        if (colon >= 0)
        {
            host = hostPort[..colon];
            port = hostPort[(colon + 1)..];
        }

        return true;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, string scheme, out int port, out string? error)
    {
        error = null;
        port = scheme switch { "http" => 80, "https" => 443, _ => 0 };
        if (text.IsEmpty)
        {
            if (port == 0)
            {
                error = $"no port given and no default port for scheme '{scheme}'";
                return false;
            }

            return true;
        }

        int value = 0;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                error = "port is not a number";
                return false;
            }

            value = Math.Min(100_000, (value * 10) + (c - '0'));
        }

        if (value is < 1 or > 65535)
        {
            error = "port must be from 1 to 65535";
            return false;
        }

        port = value;
        return true;
    }

    private static bool TryReadHost(ReadOnlySpan<char> text, bool bracketed, out string host, out IPAddress? literal, out string? error)
    {
        host = string.Empty;
        literal = null;
        if (text.IsEmpty)
        {
            error = "empty host";
            return false;
        }

        if (bracketed)
        {
            if (!StrictIpParser.TryParseV6(text, out literal, out error))
            {
                return false;
            }

            host = literal!.ToString();
            return true;
        }

        if (!TryPercentDecode(text, out string decoded, out error))
        {
            return false;
        }

        string folded = HostFolding.Fold(AsciiLower(decoded));
        foreach (char c in folded)
        {
            if (c < 0x80 ? !HostAsciiChars.Contains(c) : char.IsControl(c) || char.IsWhiteSpace(c))
            {
                error = $"host contains the character U+{(int)c:X4}";
                return false;
            }
        }

        switch (Ipv4HostParser.Parse(folded, out uint address))
        {
            case HostKind.Invalid:
                error = "host ends in a number but is not an IPv4 address";
                return false;
            case HostKind.Ipv4:
                literal = IpBits.FromV4(address);
                host = literal.ToString();
                return true;
            default:
                host = folded.AsSpan().ContainsAnyExceptInRange('\0', '\x7f') ? AsciiLower(decoded) : folded;
                return true;
        }
    }

    /// <summary>libcurl and browsers percent-decode the host before reading it, so <c>%31%32%37.0.0.1</c> is 127.0.0.1.</summary>
    private static bool TryPercentDecode(ReadOnlySpan<char> text, out string decoded, out string? error)
    {
        error = null;
        decoded = string.Empty;
        if (!text.Contains('%'))
        {
            decoded = text.ToString();
            return true;
        }

        // The text is valid UTF-16 (CheckText), and '%' and hex digits are ASCII, so decoding in UTF-8 bytes is exact.
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(text)];
        int read = Encoding.UTF8.GetBytes(text, bytes);
        int written = 0;
        for (int i = 0; i < read; i++)
        {
            if (bytes[i] != (byte)'%')
            {
                bytes[written++] = bytes[i];
                continue;
            }

            if (i + 2 >= read || !char.IsAsciiHexDigit((char)bytes[i + 1]) || !char.IsAsciiHexDigit((char)bytes[i + 2]))
            {
                error = "bad percent-escape in the host";
                return false;
            }

            bytes[written++] = (byte)((HexValue((char)bytes[i + 1]) << 4) | HexValue((char)bytes[i + 2]));
            i += 2;
        }

        try
        {
            decoded = StrictUtf8.GetString(bytes, 0, written);
            return true;
        }
        catch (DecoderFallbackException)
        {
            error = "host is not valid UTF-8 once percent-decoded";
            return false;
        }
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static string AsciiLower(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('A', 'Z'))
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                char c = source[i];
                span[i] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
            }
        });
    }

    private static string Normalize(string url, string scheme, string host, IPAddress? literal, int port, int authorityEnd)
    {
        ReadOnlySpan<char> rest = url.AsSpan(authorityEnd);
        int fragment = rest.IndexOf('#');
        if (fragment >= 0)
        {
            rest = rest[..fragment];
        }

        bool isDefaultPort = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
        string hostPart = literal is not null && IpBits.IsV6(literal) ? $"[{host}]" : host;
        string portPart = isDefaultPort ? string.Empty : $":{port}";
        string slash = rest.IsEmpty || rest[0] != '/' ? "/" : string.Empty;
        return $"{scheme}://{hostPart}{portPart}{slash}{rest}";
    }
}
