// Header name/value rules shared by POST, the GET bridge and the channel: names are RFC 9110 tokens,
// values carry no CR, LF or NUL (header injection).
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

    /// <summary>Null when valid, else the reason.</summary>
    public static string? Check(string name, string value, int maxBytes)
    {
        if (HasLineBreakOrNul(name)) return $"header name '{Printable(name)}' has a CR, LF or NUL character";
        if (!IsToken(name)) return $"header name '{Printable(name)}' is not a valid HTTP token";
        if (HasLineBreakOrNul(value)) return $"header '{name}' has a CR, LF or NUL character in its value";
        foreach (var c in value)
            if (c < 0x20 && c != '\t' || c == 0x7f) return $"header '{name}' has a control character in its value";
        if (name.Length + value.Length > maxBytes) return $"header '{name}' is longer than {maxBytes} bytes";
        return null;
    }

    /// <summary>Shows a caller's text in a message without echoing control characters.</summary>
    public static string Printable(string text)
    {
        var clipped = text.Length > 64 ? text[..64] + "…" : text;
        return string.Create(clipped.Length, clipped, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++) span[i] = source[i] < 0x20 || source[i] == 0x7f ? '?' : source[i];
        });
    }
}
