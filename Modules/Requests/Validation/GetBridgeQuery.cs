// The GET bridge (docs/api.md (Executing requests)): a whole CurlRequest described by the query string, so any REST
// call becomes one shareable GET URL. Unknown parameters are ignored (proxies append their own).
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Validation;

public static class GetBridgeQuery
{
    /// <summary>
    /// Builds the request from the raw query string ("?a=b&amp;…", as the caller sent it). The pairs are decoded
    /// one by one as they are read: no query dictionary, no grouping by key (the request collection's parse and
    /// the pairs built from it were ~13% of the bytes allocated per relayed request, issue 13). Repeats behave as
    /// in <see cref="Parse(IEnumerable{KeyValuePair{string, string}}, RequestLimits)"/>.
    /// </summary>
    public static CurlRequest Parse(string? queryString, RequestLimits limits)
    {
        var fields = new Fields();
        foreach (var pair in new Microsoft.AspNetCore.WebUtilities.QueryStringEnumerable(queryString))
            fields.Take(pair.DecodeName().ToString(), pair.DecodeValue().ToString(), limits);
        return fields.Build(limits);
    }

    /// <summary>Builds the request from query pairs (repeats allowed). Throws ApiErrorException 400.</summary>
    public static CurlRequest Parse(IEnumerable<KeyValuePair<string, string?>> query, RequestLimits limits)
    {
        var fields = new Fields();
        foreach (var (key, raw) in query) fields.Take(key, raw ?? "", limits);
        return fields.Build(limits);
    }

    /// <summary>The parameters read so far; the request record is built once, at the end.</summary>
    private struct Fields
    {
        private string? _url, _dataBase64, _data, _json, _headersJson;
        private List<string>? _headerValues;
        private string? _method, _sessionId, _userAgent, _referer, _bearerToken, _savePath, _jobName;
        private ResponseMode? _response;
        private ExecutionMode? _mode;
        private bool? _followRedirects, _save, _insecure, _compressed;
        private int? _timeout;

        public void Take(string key, string value, RequestLimits limits)
        {
            switch (key)
            {
                case "url": _url = value; break;
                case "method": _method = RequestRules.Method(Empty(value)); break;
                case "response": _response = RequestRules.ResponseMode(Empty(value)); break;
                case "mode": _mode = RequestRules.ExecutionMode(Empty(value)); break;
                case "session_id": _sessionId = RequestRules.SessionId(Empty(value)); break;
                case "follow_redirects": _followRedirects = Bool(key, value); break;
                case "timeout": _timeout = Int(key, value, limits.MaxTimeoutSecs); break;
                case "user_agent": _userAgent = HeaderText(key, value); break;
                case "referer": _referer = HeaderText(key, value); break;
                case "bearer_token": _bearerToken = HeaderText(key, value); break;
                case "save": _save = Bool(key, value); break;
                case "save_path": _savePath = RequestRules.SavePath(value); break;
                case "insecure": _insecure = Bool(key, value); break;
                case "compressed": _compressed = Bool(key, value); break;
                case "job_name": _jobName = RequestRules.JobName(Empty(value)); break;
                case "data" or "body": _data = value; break;
                case "json": _json = value; break;
                case "data_base64" or "body_base64": _dataBase64 = value; break;
                case "header": (_headerValues ??= []).Add(value); break;
                case "headers": _headersJson = value; break;
            }
        }

        public readonly CurlRequest Build(RequestLimits limits)
        {
            if (_url is null || _url.Length == 0) throw Fail("query parameter 'url' is required");
            var url = RequestRules.Url(_url, limits);
            var headers = MergeHeaders(_headersJson, _headerValues, limits);
            // data_base64 wins over data/json (docs/api.md (Executing requests)).
            var dataBytes = _dataBase64 is not null ? DecodeBase64(_dataBase64) : null;
            var json = dataBytes is null && _json is not null ? ValidJson(_json, limits) : null;
            var data = dataBytes is null && json is null ? _data : null;
            var r = new CurlRequest
            {
                Url = url, Headers = headers, Method = _method, Response = _response, Mode = _mode, SessionId = _sessionId,
                FollowRedirects = _followRedirects, Timeout = _timeout, UserAgent = _userAgent, Referer = _referer,
                BearerToken = _bearerToken, Save = _save, SavePath = _savePath, Insecure = _insecure, Compressed = _compressed,
                JobName = _jobName, DataBytes = dataBytes, Json = json, Data = data,
            };
            RequestRules.CheckCombination(r);
            RequestRules.CheckHeaderFields(r);
            return r;
        }
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

    private static List<HeaderEntry>? MergeHeaders(string? headersJson, List<string>? headerValues, RequestLimits limits)
    {
        if (headersJson is null && (headerValues is null || headerValues.Count == 0)) return null;
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
        var fromHeader = (headerValues ?? []).SelectMany(v => HeaderSplitter.Split(v, limits.MaxHeaderBytes)).ToList();
        merged.RemoveAll(m => fromHeader.Any(h => h.Name.Equals(m.Name, StringComparison.OrdinalIgnoreCase)));
        merged.AddRange(fromHeader);
        if (merged.Count > limits.MaxHeaderCount) throw Fail($"too many headers: {merged.Count} (the limit is {limits.MaxHeaderCount})");
        return merged;
    }
}
