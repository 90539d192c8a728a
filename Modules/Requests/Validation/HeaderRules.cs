// Header name/value rules shared by POST, the GET bridge and the channel: names are RFC 9110 tokens,
// values carry no CR, LF, NUL or other control character (header injection), and callers never set
// the headers that frame the message or manage the connection (request smuggling, issue 16).
using HoodyCurl.Kernel.Errors;

namespace HoodyCurl.Requests.Validation;

public static class HeaderRules
{
    public static bool IsTokenChar(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' ||
        c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    public static bool IsToken(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return false;
        foreach (var c in text) if (!IsTokenChar(c)) return false;
        return true;
    }

    /// <summary>True when the text holds CR, LF or NUL (never allowed in anything that becomes a header).</summary>
    public static bool HasLineBreakOrNul(ReadOnlySpan<char> text) => text.IndexOfAny('\r', '\n', '\0') >= 0;

    /// <summary>
    /// Headers only libcurl may write: they frame the message (Content-Length, Transfer-Encoding, TE,
    /// Trailer, Expect) or manage the connection (Connection, Keep-Alive, Upgrade, Proxy-*). A caller's
    /// own Content-Length: 0 over a body makes the upstream read the body as a second request on a pooled
    /// connection, and every later answer on it goes to the wrong caller.
    /// </summary>
    public static bool IsCallerForbidden(string name) =>
        name.StartsWith("proxy-", StringComparison.OrdinalIgnoreCase) ||
        name.ToLowerInvariant() is "content-length" or "transfer-encoding" or "connection" or "keep-alive"
            or "upgrade" or "te" or "trailer" or "expect";

    /// <summary>The first control character other than tab (C0 or DEL), or -1.</summary>
    public static int IndexOfControl(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
            if (text[i] < 0x20 && text[i] != '\t' || text[i] == 0x7f) return i;
        return -1;
    }

    /// <summary>Null when valid, else the reason.</summary>
    public static string? Check(string name, string value, int maxBytes)
    {
        if (HasLineBreakOrNul(name)) return $"header name '{ErrorText.Printable(name)}' has a CR, LF or NUL character";
        if (!IsToken(name)) return $"header name '{ErrorText.Printable(name)}' is not a valid HTTP token";
        if (HasLineBreakOrNul(value)) return $"header '{name}' has a CR, LF or NUL character in its value";
        if (IndexOfControl(value) >= 0) return $"header '{name}' has a control character in its value";
        if (name.Length + value.Length > maxBytes) return $"header '{name}' is longer than {maxBytes} bytes";
        return null;
    }
}
