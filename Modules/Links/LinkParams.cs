// Declared parameters: their rules at creation and their substitution at opening. A value only ever
// lands where its declaration says, encoded for that place:
//   query  -> percent-encoded (RFC 3986 unreserved characters only stay literal) and appended to the
//             stored URL's query, so no value can add a '&', '#', '/', '@' or change scheme/host/port/path;
//   header -> its own header line (blanks trimmed), refused (400) when it holds CR, LF, NUL or another control character;
//   body   -> a JSON string member of the stored `json` object (or a `form` field), escaped by the writer.
// Undeclared query parameters are never looked at; nothing else of the stored request changes.
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Links;

internal static class LinkParams
{
    /// <summary>Headers a param may not set: they frame the request or pick its destination.</summary>
    private static readonly string[] ForbiddenHeaders =
    [
        "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive",
        "expect", "proxy-connection", "proxy-authorization", "http2-settings",
    ];

    private static readonly ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    /// <summary>Param names: 1 to 64 RFC 3986 unreserved characters (valid as a query name and a header name).</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length is 0 or > 64) return false;
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~')) return false;
        return true;
    }

    /// <summary>
    /// Compiles a pattern that must match the whole value (it is wrapped in \A(?:…)\z, so "^[a-z]+$" does
    /// not let "abc\n" through) with the non-backtracking engine (linear time in the value's length) and a
    /// match timeout; 400 when the pattern is invalid or uses a construct that engine lacks (backreferences,
    /// lookarounds).
    /// </summary>
    public static Regex Compile(string pattern, TimeSpan timeout)
    {
        var key = timeout.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + pattern;
        if (Compiled.TryGetValue(key, out var cached)) return cached;
        const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;
        Regex regex;
        try
        {
            _ = new Regex(pattern, Options, timeout); // alone first: "a)|(b" must not escape the wrapping group
            regex = new Regex(@"\A(?:" + pattern + @")\z", Options, timeout);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw Fail($"pattern '{ErrorText.Printable(pattern)}' is not a supported regular expression (no backreferences or lookarounds): {e.Message.Split('\n')[0]}");
        }
        if (Compiled.Count > 4096) Compiled.Clear(); // a bound, not a policy: patterns recompile on demand
        Compiled[key] = regex;
        return regex;
    }

    /// <summary>
    /// Checks declarations against the stored request at creation: names unique (case-insensitive),
    /// headers not framing/destination headers nor already stored, query names not already in the stored
    /// URL, body params only with a stored JSON object, a form, or no body, and never with forward_body.
    /// </summary>
    public static void CheckDeclarations(IReadOnlyList<LinkParam> declared, CurlRequest request, bool forwardBody)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        HashSet<string>? queryNames = null, bodyNames = null;
        foreach (var p in declared)
        {
            if (!seen.Add(p.Name)) throw Fail($"params: '{p.Name}' is declared twice");
            switch (p.In)
            {
                case ParamLocation.Header:
                    if (Array.IndexOf(ForbiddenHeaders, p.Name.ToLowerInvariant()) >= 0)
                        throw Fail($"params: header '{p.Name}' cannot be a parameter (it frames the request or picks its destination)");
                    if (request.Headers?.Any(h => h.Name.Equals(p.Name, StringComparison.OrdinalIgnoreCase)) == true)
                        throw Fail($"params: header '{p.Name}' is already set by the stored request");
                    break;
                case ParamLocation.Query:
                    queryNames ??= QueryNames(request.Url);
                    if (queryNames.Contains(p.Name)) throw Fail($"params: query parameter '{p.Name}' is already in the stored URL");
                    break;
                case ParamLocation.Body:
                    if (forwardBody) throw Fail("params: body params cannot be combined with forward_body");
                    if (request.Data is not null || request.DataBytes is not null)
                        throw Fail("params: body params need the stored request's body to be a 'json' object, a 'form', or absent");
                    bodyNames ??= BodyNames(request);
                    if (bodyNames.Contains(p.Name)) throw Fail($"params: body field '{p.Name}' is already in the stored body");
                    break;
            }
        }
    }

    /// <summary>
    /// The stored request with the declared params applied from <paramref name="lookup"/> (all values of a
    /// name in the opener's query string, or null when absent). Throws 400 naming the parameter when one
    /// is missing, repeated, not valid Unicode, fails its pattern, or would break a header or a limit.
    /// </summary>
    public static CurlRequest Apply(CurlRequest stored, IReadOnlyList<LinkParam> declared, Func<string, IReadOnlyList<string?>?> lookup,
        RequestLimits limits, TimeSpan patternTimeout)
    {
        if (declared.Count == 0) return stored;
        List<(string Name, string Value)>? query = null, body = null;
        List<HeaderEntry>? headers = null;
        foreach (var p in declared)
        {
            var values = lookup(p.Name);
            if (values is null || values.Count == 0)
            {
                if (p.Required) throw Fail($"parameter '{p.Name}' is required");
                continue;
            }
            if (values.Count > 1) throw Fail($"parameter '{p.Name}' is given more than once");
            var value = values[0] ?? "";
            if (!IsValidUnicode(value)) throw Fail($"parameter '{p.Name}' is not valid Unicode");
            if (p.Pattern is { } pattern)
            {
                bool matched;
                try
                {
                    matched = Compile(pattern, patternTimeout).IsMatch(value);
                }
                catch (RegexMatchTimeoutException)
                {
                    matched = false;
                }
                if (!matched) throw Fail($"parameter '{p.Name}' does not match its pattern");
            }
            switch (p.In)
            {
                case ParamLocation.Query:
                    (query ??= []).Add((p.Name, value));
                    break;
                case ParamLocation.Header:
                    if (HeaderRules.Check(p.Name, value, limits.MaxHeaderBytes) is { } problem) throw Fail($"parameter '{p.Name}': {problem}");
                    // A field value has no leading or trailing blanks (RFC 9110 §5.5); libcurl would drop a blank-only one.
                    (headers ??= []).Add(new HeaderEntry(p.Name, value.Trim(' ', '\t')));
                    break;
                case ParamLocation.Body:
                    (body ??= []).Add((p.Name, value));
                    break;
            }
        }

        var result = stored;
        if (query is not null)
        {
            var url = AppendQuery(stored.Url, query);
            if (url.Length > limits.MaxUrlLength) throw Fail($"the link's URL with its parameters is longer than {limits.MaxUrlLength} characters");
            result = result with { Url = url };
        }
        if (headers is not null)
        {
            var all = new List<HeaderEntry>(stored.Headers ?? []);
            all.AddRange(headers);
            if (all.Count > limits.MaxHeaderCount) throw Fail($"too many headers: {all.Count} (the limit is {limits.MaxHeaderCount})");
            result = result with { Headers = all };
        }
        if (body is not null)
        {
            if (stored.Form is { } form)
                result = result with { Form = [.. form, .. body.Select(b => new HeaderEntry(b.Name, b.Value))] };
            else
                result = result with { Json = MergeJson(stored.Json, body) };
        }
        return result;
    }

    /// <summary>
    /// Appends name=value pairs to the URL's query, before any fragment. Both halves are percent-encoded
    /// so that only RFC 3986 unreserved characters stay literal: the result differs from the stored URL
    /// only after its query separator.
    /// </summary>
    public static string AppendQuery(string url, IReadOnlyList<(string Name, string Value)> pairs)
    {
        var hash = url.IndexOf('#', StringComparison.Ordinal);
        var head = hash < 0 ? url : url[..hash];
        var fragment = hash < 0 ? "" : url[hash..];
        var text = new StringBuilder(head, head.Length + 64);
        var separator = !head.Contains('?', StringComparison.Ordinal) ? "?" : head.EndsWith('?') || head.EndsWith('&') ? "" : "&";
        foreach (var (name, value) in pairs)
        {
            text.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            separator = "&";
        }
        return text.Append(fragment).ToString();
    }

    /// <summary>The stored JSON object (or a new one) with the values added as string members.</summary>
    private static string MergeJson(string? storedJson, IReadOnlyList<(string Name, string Value)> members)
    {
        using var buffer = new MemoryStream(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (storedJson is not null)
            {
                using var document = JsonDocument.Parse(storedJson);
                foreach (var p in document.RootElement.EnumerateObject()) p.WriteTo(w);
            }
            foreach (var (name, value) in members) w.WriteString(name, value);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Names in the URL's query, percent-decoded.</summary>
    internal static HashSet<string> QueryNames(string url)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hash = url.IndexOf('#', StringComparison.Ordinal);
        var head = hash < 0 ? url : url[..hash];
        var q = head.IndexOf('?', StringComparison.Ordinal);
        if (q < 0) return names;
        foreach (var part in head[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var raw = (eq < 0 ? part : part[..eq]).Replace('+', ' ');
            try { names.Add(Uri.UnescapeDataString(raw)); }
            catch (UriFormatException) { names.Add(raw); }
        }
        return names;
    }

    private static HashSet<string> BodyNames(CurlRequest request)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (request.Form is { } form)
        {
            foreach (var f in form) names.Add(f.Name);
        }
        else if (request.Json is { } json)
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Fail("params: body params need the stored 'json' to be an object");
            foreach (var p in document.RootElement.EnumerateObject()) names.Add(p.Name);
        }
        return names;
    }

    /// <summary>False when the text holds a lone surrogate (it has no UTF-8 form).</summary>
    internal static bool IsValidUnicode(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) { i++; continue; }
            return false;
        }
        return true;
    }

    private static ApiErrorException Fail(string message) => new(ApiError.Validation(message));
}
