// The GET bridge (docs/api.md (Executing requests)): a whole CurlRequest described by the query string, so any REST
// call becomes one shareable GET URL. Unknown parameters are ignored (proxies append their own).
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Validation;

public static class GetBridgeQuery
{
    /// <summary>Builds the request from query pairs (repeats allowed). Throws ApiErrorException 400.</summary>
    public static CurlRequest Parse(IEnumerable<KeyValuePair<string, string?>> query, RequestLimits limits)
    {
        string? url = null, dataBase64 = null, data = null, json = null, headersJson = null;
        var headerValues = new List<string>();
        var r = new CurlRequest { Url = "" };
        foreach (var (key, raw) in query)
        {
            var value = raw ?? "";
            switch (key)
            {
                case "url": url = value; break;
                case "method": r = r with { Method = RequestRules.Method(Empty(value)) }; break;
                case "response": r = r with { Response = RequestRules.ResponseMode(Empty(value)) }; break;
                case "mode": r = r with { Mode = RequestRules.ExecutionMode(Empty(value)) }; break;
                case "session_id": r = r with { SessionId = RequestRules.SessionId(Empty(value)) }; break;
                case "follow_redirects": r = r with { FollowRedirects = Bool(key, value) }; break;
                case "timeout": r = r with { Timeout = Int(key, value, limits.MaxTimeoutSecs) }; break;
                case "user_agent": r = r with { UserAgent = HeaderText(key, value) }; break;
                case "referer": r = r with { Referer = HeaderText(key, value) }; break;
                case "bearer_token": r = r with { BearerToken = HeaderText(key, value) }; break;
                case "save": r = r with { Save = Bool(key, value) }; break;
                case "save_path": r = r with { SavePath = RequestRules.SavePath(value) }; break;
                case "insecure": r = r with { Insecure = Bool(key, value) }; break;
                case "compressed": r = r with { Compressed = Bool(key, value) }; break;
                case "job_name": r = r with { JobName = RequestRules.JobName(Empty(value)) }; break;
                case "data" or "body": data = value; break;
                case "json": json = value; break;
                case "data_base64" or "body_base64": dataBase64 = value; break;
                case "header": headerValues.Add(value); break;
                case "headers": headersJson = value; break;
            }
        }
        if (url is null || url.Length == 0) throw Fail("query parameter 'url' is required");
        r = r with { Url = RequestRules.Url(url, limits), Headers = MergeHeaders(headersJson, headerValues, limits) };

        // data_base64 wins over data/json (docs/api.md (Executing requests)).
        if (dataBase64 is not null) r = r with { DataBytes = DecodeBase64(dataBase64) };
        else if (json is not null) r = r with { Json = ValidJson(json, limits) };
        else if (data is not null) r = r with { Data = data };
        RequestRules.CheckCombination(r);
        RequestRules.CheckHeaderFields(r);
        return r;
    }

    private static ApiErrorException Fail(string message) => new(ApiError.Validation(message));

    private static string? Empty(string value) => value.Length == 0 ? null : value;

    private static string HeaderText(string key, string value)
    {
        if (HeaderRules.HasLineBreakOrNul(value)) throw Fail($"query parameter '{key}' has a CR, LF or NUL character");
        if (HeaderRules.IndexOfControl(value) >= 0) throw Fail($"query parameter '{key}' has a control character (only tab is allowed)");
        return value;
    }

    internal static bool Bool(string key, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw Fail($"query parameter '{key}' must be true or false"),
    };

    private static int Int(string key, string value, int cap)
    {
        if (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 1)
            throw Fail($"query parameter '{key}' must be a positive integer");
        return Math.Min(n, cap);
    }

    private static string ValidJson(string text, RequestLimits limits)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = limits.MaxJsonDepth });
            return document.RootElement.GetRawText();
        }
        catch (Exception e) when (e is JsonException or ArgumentException) // the latter: a lone surrogate in the text
        {
            throw Fail("query parameter 'json' is not valid JSON");
        }
    }

    /// <summary>Standard or URL-safe alphabet, padding optional (docs/api.md (Executing requests)).</summary>
    internal static byte[] DecodeBase64(string text)
    {
        var normalized = text.Trim().Replace('-', '+').Replace('_', '/');
        switch (normalized.Length % 4)
        {
            case 2: normalized += "=="; break;
            case 3: normalized += "="; break;
            case 1: throw Fail("query parameter 'data_base64' is not valid base64");
        }
        try { return Convert.FromBase64String(normalized); }
        catch (FormatException) { throw Fail("query parameter 'data_base64' is not valid base64"); }
    }

    private static List<HeaderEntry>? MergeHeaders(string? headersJson, List<string> headerValues, RequestLimits limits)
    {
        if (headersJson is null && headerValues.Count == 0) return null;
        var merged = new List<HeaderEntry>();
        if (headersJson is not null)
        {
            try
            {
                using var document = JsonDocument.Parse(headersJson, new JsonDocumentOptions { MaxDepth = 4 });
                if (document.RootElement.ValueKind != JsonValueKind.Object) throw Fail("query parameter 'headers' must be a JSON object of strings");
                foreach (var p in document.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.String) throw Fail($"header '{ErrorText.Printable(p.Name)}' in 'headers' must be a string");
                    var value = p.Value.GetString()!;
                    if (HeaderRules.Check(p.Name, value, limits.MaxHeaderBytes) is { } problem) throw Fail(problem);
                    merged.Add(new HeaderEntry(p.Name, value));
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException) // the others: a lone surrogate
            {
                throw Fail("query parameter 'headers' is not valid JSON");
            }
        }
        // `header` entries win over `headers=` entries of the same name (docs/api.md D7).
        var fromHeader = headerValues.SelectMany(v => HeaderSplitter.Split(v, limits.MaxHeaderBytes)).ToList();
        merged.RemoveAll(m => fromHeader.Any(h => h.Name.Equals(m.Name, StringComparison.OrdinalIgnoreCase)));
        merged.AddRange(fromHeader);
        if (merged.Count > limits.MaxHeaderCount) throw Fail($"too many headers: {merged.Count} (the limit is {limits.MaxHeaderCount})");
        return merged;
    }
}
