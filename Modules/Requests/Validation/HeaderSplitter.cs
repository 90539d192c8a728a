// The GET bridge's `header` parameter (docs/api.md: Executing requests; D7). Raw users repeat it; the SDK
// joins an array with commas into one value. A value is split only at a comma followed by optional
// spaces, an HTTP token and a colon, so "Accept: text/html, application/json" stays one header.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Validation;

public static class HeaderSplitter
{
    /// <summary>Splits one `header` value into `Name: Value` entries. Throws ApiErrorException 400.</summary>
    public static List<HeaderEntry> Split(string value, int maxHeaderBytes)
    {
        var result = new List<HeaderEntry>();
        var start = 0;
        for (var i = 0; i <= value.Length; i++)
        {
            if (i < value.Length && !(value[i] == ',' && StartsNewHeader(value, i + 1))) continue;
            result.Add(ParseOne(value[start..i], maxHeaderBytes));
            start = i + 1;
        }
        return result;
    }

    /// <summary>True when text[from..] is optional spaces, a token, then ':'.</summary>
    internal static bool StartsNewHeader(string text, int from)
    {
        var i = from;
        while (i < text.Length && (text[i] == ' ' || text[i] == '\t')) i++;
        var tokenStart = i;
        while (i < text.Length && HeaderRules.IsTokenChar(text[i])) i++;
        return i > tokenStart && i < text.Length && text[i] == ':';
    }

    private static HeaderEntry ParseOne(string text, int maxHeaderBytes)
    {
        var colon = text.IndexOf(':');
        if (colon < 0)
            throw new ApiErrorException(ApiError.Validation($"header '{ErrorText.Printable(text.Trim())}' must look like 'Name: Value'"));
        // Only spaces and tabs are trimmed: a CR, LF or NUL around the name is refused, never dropped.
        var name = text[..colon].Trim(' ', '\t');
        var value = text[(colon + 1)..].Trim(' ', '\t');
        if (HeaderRules.Check(name, value, maxHeaderBytes) is { } problem)
            throw new ApiErrorException(ApiError.Validation(problem));
        return new HeaderEntry(name, value);
    }
}
