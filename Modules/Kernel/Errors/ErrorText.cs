// Caller text quoted inside an error message or a log line: clipped and with control characters shown
// as '?', so a hostile value can neither flood an answer nor forge lines in a terminal or a log. The one
// copy of this rule; every module quotes caller text through it.
namespace HoodyCurl.Kernel.Errors;

public static class ErrorText
{
    /// <summary>Longest quoted text, in UTF-16 units, before it is cut and marked with "…".</summary>
    public const int MaxQuoted = 64;

    /// <summary>The first 64 characters of <paramref name="text"/> (then "…"), control characters (C0, DEL, C1) as '?'.</summary>
    public static string Printable(string text)
    {
        var clipped = text.Length > MaxQuoted ? text[..MaxQuoted] + "…" : text;
        if (!clipped.AsSpan().ContainsAnyInRange('\u0000', '\u001f') && !clipped.AsSpan().ContainsAnyInRange('\u007f', '\u009f')) return clipped;
        return string.Create(clipped.Length, clipped, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++) span[i] = char.IsControl(source[i]) ? '?' : source[i];
        });
    }
}
