// Reads and writes the CurlRequest object of contract rest.md §2. Parsing is strict (deny unknown
// fields, the six rejected fields, typed values, header injection) and gives a message that names
// the field. Writing has two flavours: the API echo redacts secrets (decisions D9); the storage copy
// keeps them (schedules and reruns need them) plus the GET bridge's binary body.
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Validation;

public enum CurlRequestJsonFlavor
{
    /// <summary>The wire format: what callers send and what the API echoes (secrets redacted on write).</summary>
    Api,
    /// <summary>What the stores keep: secrets kept, `data_base64` allowed for binary bodies.</summary>
    Storage,
}

public static class CurlRequestJson
{
    public const string Redacted = "***";

    /// <summary>The six fields that exist in the schema but are refused with 400 (rest.md §2).</summary>
    public static readonly string[] RejectedFields = ["proxy", "proxy_user", "proxy_password", "cacert", "cert", "key"];

    /// <summary>Parses a request body (UTF-8 JSON) into a CurlRequest. Throws ApiErrorException 400.</summary>
    public static CurlRequest Parse(ReadOnlyMemory<byte> utf8, RequestLimits limits)
    {
        // JsonDocument checks UTF-8 only when a string is read; an invalid byte would then throw
        // InvalidOperationException (a 500) instead of this 400.
        if (!System.Text.Unicode.Utf8.IsValid(utf8.Span)) throw Fail("request body is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = limits.MaxJsonDepth });
        }
        catch (JsonException e)
        {
            throw Fail($"request body is not valid JSON at {HoodyCurl.Kernel.Http.JsonErrors.Describe(e)}");
        }
        using (document) return Parse(document.RootElement, limits, CurlRequestJsonFlavor.Api);
    }

    public static CurlRequest Parse(JsonElement root, RequestLimits limits, CurlRequestJsonFlavor flavor)
    {
        try
        {
            return ParseObject(root, limits, flavor);
        }
        catch (InvalidOperationException)
        {
            // Reading a name or string that holds a lone surrogate escape ("\ud800") throws here.
            throw Fail("request has a string that is not valid Unicode (a lone surrogate escape)");
        }
    }

    private static CurlRequest ParseObject(JsonElement root, RequestLimits limits, CurlRequestJsonFlavor flavor)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Fail("request must be a JSON object");
        string? url = null;
        var r = new CurlRequest { Url = "" };
        foreach (var p in root.EnumerateObject())
        {
            var v = p.Value;
            switch (p.Name)
            {
                case "url": url = Str(p); break;
                case "method": r = r with { Method = RequestRules.Method(Str(p)) }; break;
                case "headers": r = r with { Headers = StringMap(p, limits, isHeaders: true) }; break;
                case "user_agent": r = r with { UserAgent = HeaderText(p) }; break;
                case "referer": r = r with { Referer = HeaderText(p) }; break;
                case "cookie": r = r with { Cookie = HeaderText(p) }; break;
                case "auth_user": r = r with { AuthUser = HeaderText(p) }; break;
                case "auth_password": r = r with { AuthPassword = HeaderText(p) }; break;
                case "auth_method": r = r with { AuthMethod = RequestRules.AuthMethod(Str(p)) }; break;
                case "bearer_token": r = r with { BearerToken = HeaderText(p) }; break;
                case "data": r = r with { Data = Str(p) }; break;
                case "json": r = r with { Json = v.ValueKind == JsonValueKind.Null ? null : v.GetRawText() }; break;
                case "form": r = r with { Form = StringMap(p, limits, isHeaders: false) }; break;
                case "timeout": r = r with { Timeout = Int(p, 1, int.MaxValue) is { } t ? Math.Min(t, limits.MaxTimeoutSecs) : null }; break;
                case "connect_timeout": r = r with { ConnectTimeout = Int(p, 1, int.MaxValue) is { } c ? Math.Min(c, limits.MaxTimeoutSecs) : null }; break;
                case "max_redirects": r = r with { MaxRedirects = Int(p, 0, 100) }; break;
                case "follow_redirects": r = r with { FollowRedirects = Bool(p) }; break;
                case "max_filesize": r = r with { MaxFilesize = Long(p, 0) }; break;
                case "insecure": r = r with { Insecure = Bool(p) }; break;
                case "cert_type": r = r with { CertType = RequestRules.CertType(Str(p)) }; break;
                case "compressed": r = r with { Compressed = Bool(p) }; break;
                case "tcp_nodelay": r = r with { TcpNodelay = Bool(p) }; break;
                case "keepalive": r = r with { Keepalive = Bool(p) }; break;
                case "keepalive_time": r = r with { KeepaliveTime = Int(p, 1, 86400) }; break;
                case "range": r = r with { Range = RequestRules.Range(Str(p)) }; break;
                case "speed_limit": r = r with { SpeedLimit = Long(p, 0) }; break;
                case "speed_time": r = r with { SpeedTime = Int(p, 1, 86400) }; break;
                case "save": r = r with { Save = Bool(p) }; break;
                case "save_path": r = r with { SavePath = RequestRules.SavePath(Str(p)) }; break;
                case "response": r = r with { Response = RequestRules.ResponseMode(Str(p)) }; break;
                case "mode": r = r with { Mode = RequestRules.ExecutionMode(Str(p)) }; break;
                case "job_name": r = r with { JobName = flavor == CurlRequestJsonFlavor.Api ? RequestRules.JobName(Str(p)) : Str(p) }; break;
                case "session_id": r = r with { SessionId = RequestRules.SessionId(Str(p)) }; break;
                case "retry_count": r = r with { RetryCount = Int(p, 0, limits.MaxRetryCount) }; break;
                case "retry_delay": r = r with { RetryDelay = Int(p, 0, limits.MaxRetryDelaySecs) }; break;
                case "schedule": r = r with { Schedule = Str(p) }; break;
                case "data_base64" when flavor == CurlRequestJsonFlavor.Storage:
                    r = r with { DataBytes = Str(p) is { } b ? Convert.FromBase64String(b) : null };
                    break;
                default:
                    if (Array.IndexOf(RejectedFields, p.Name) >= 0)
                    {
                        if (v.ValueKind == JsonValueKind.Null) break; // explicit null means absent
                        throw Fail($"field '{p.Name}' is not supported: proxies and client certificates are rejected");
                    }
                    throw Fail($"unknown field '{HeaderRules.Printable(p.Name)}'");
            }
        }
        if (url is null) throw Fail("field 'url' is required");
        r = r with { Url = RequestRules.Url(url, limits) };
        RequestRules.CheckCombination(r);
        // A stored request is checked again by the executor before it runs; refusing it here would make
        // an old record unreadable (and its job or schedule unlistable) instead of failing its next run.
        if (flavor == CurlRequestJsonFlavor.Api) RequestRules.CheckHeaderFields(r);
        return r;
    }

    /// <summary>Writes the request as JSON. The Api flavour redacts secrets (decisions D9).</summary>
    public static void Write(Utf8JsonWriter w, CurlRequest r, CurlRequestJsonFlavor flavor)
    {
        var redact = flavor == CurlRequestJsonFlavor.Api;
        w.WriteStartObject();
        w.WriteString("url", redact ? Redaction.Url(r.Url) : r.Url);
        w.WriteString("method", r.EffectiveMethod);
        if (r.Headers is { } headers)
        {
            w.WriteStartObject("headers");
            foreach (var h in headers) w.WriteString(h.Name, redact && Redaction.IsSecretHeader(h.Name) ? Redacted : h.Value);
            w.WriteEndObject();
        }
        Opt(w, "user_agent", r.UserAgent);
        Opt(w, "referer", r.Referer);
        Opt(w, "cookie", Secret(r.Cookie, redact));
        Opt(w, "auth_user", r.AuthUser);
        Opt(w, "auth_password", Secret(r.AuthPassword, redact));
        Opt(w, "auth_method", r.AuthMethod?.ToString().ToLowerInvariant());
        Opt(w, "bearer_token", Secret(r.BearerToken, redact));
        Opt(w, "data", r.Data);
        if (r.Json is not null)
        {
            w.WritePropertyName("json");
            w.WriteRawValue(r.Json, skipInputValidation: true);
        }
        if (r.DataBytes is not null && flavor == CurlRequestJsonFlavor.Storage) w.WriteString("data_base64", Convert.ToBase64String(r.DataBytes));
        if (r.Form is { } form)
        {
            w.WriteStartObject("form");
            foreach (var f in form) w.WriteString(f.Name, f.Value);
            w.WriteEndObject();
        }
        Opt(w, "timeout", r.Timeout);
        Opt(w, "connect_timeout", r.ConnectTimeout);
        Opt(w, "max_redirects", r.MaxRedirects);
        Opt(w, "follow_redirects", r.FollowRedirects);
        Opt(w, "max_filesize", r.MaxFilesize);
        Opt(w, "insecure", r.Insecure);
        Opt(w, "cert_type", r.CertType);
        Opt(w, "compressed", r.Compressed);
        Opt(w, "tcp_nodelay", r.TcpNodelay);
        Opt(w, "keepalive", r.Keepalive);
        Opt(w, "keepalive_time", r.KeepaliveTime);
        Opt(w, "range", r.Range);
        Opt(w, "speed_limit", r.SpeedLimit);
        Opt(w, "speed_time", r.SpeedTime);
        Opt(w, "save", r.Save);
        Opt(w, "save_path", r.SavePath);
        Opt(w, "response", r.Response?.ToString().ToLowerInvariant());
        Opt(w, "mode", r.Mode?.ToString().ToLowerInvariant());
        Opt(w, "job_name", r.JobName);
        Opt(w, "session_id", r.SessionId);
        Opt(w, "retry_count", r.RetryCount);
        Opt(w, "retry_delay", r.RetryDelay);
        Opt(w, "schedule", r.Schedule);
        w.WriteEndObject();
    }

    public static byte[] ToUtf8(CurlRequest r, CurlRequestJsonFlavor flavor)
    {
        using var buffer = new MemoryStream(256);
        using (var writer = new Utf8JsonWriter(buffer)) Write(writer, r, flavor);
        return buffer.ToArray();
    }

    private static string? Secret(string? value, bool redact) => value is null ? null : redact ? Redacted : value;

    private static void Opt(Utf8JsonWriter w, string name, string? value) { if (value is not null) w.WriteString(name, value); }
    private static void Opt(Utf8JsonWriter w, string name, long? value) { if (value is { } v) w.WriteNumber(name, v); }
    private static void Opt(Utf8JsonWriter w, string name, bool? value) { if (value is { } v) w.WriteBoolean(name, v); }

    private static ApiErrorException Fail(string message) => new(ApiError.Validation(message));

    private static string? Str(JsonProperty p) => p.Value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => p.Value.GetString(),
        _ => throw Fail($"field '{p.Name}' must be a string"),
    };

    private static string? HeaderText(JsonProperty p)
    {
        var value = Str(p);
        if (value is not null && HeaderRules.HasLineBreakOrNul(value))
            throw Fail($"field '{p.Name}' has a CR, LF or NUL character");
        if (value is not null && HeaderRules.IndexOfControl(value) >= 0)
            throw Fail($"field '{p.Name}' has a control character (only tab is allowed)");
        return value;
    }

    private static bool? Bool(JsonProperty p) => p.Value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Fail($"field '{p.Name}' must be a boolean"),
    };

    private static int? Int(JsonProperty p, int min, int max)
    {
        if (p.Value.ValueKind == JsonValueKind.Null) return null;
        if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt64(out var n))
            throw Fail($"field '{p.Name}' must be an integer");
        if (n < min || n > max) throw Fail($"field '{p.Name}' must be between {min} and {max}");
        return (int)n;
    }

    private static long? Long(JsonProperty p, long min)
    {
        if (p.Value.ValueKind == JsonValueKind.Null) return null;
        if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt64(out var n))
            throw Fail($"field '{p.Name}' must be an integer");
        if (n < min) throw Fail($"field '{p.Name}' must be at least {min}");
        return n;
    }

    private static List<HeaderEntry>? StringMap(JsonProperty p, RequestLimits limits, bool isHeaders)
    {
        if (p.Value.ValueKind == JsonValueKind.Null) return null;
        if (p.Value.ValueKind != JsonValueKind.Object) throw Fail($"field '{p.Name}' must be an object of strings");
        var entries = new List<HeaderEntry>();
        foreach (var e in p.Value.EnumerateObject())
        {
            if (e.Value.ValueKind != JsonValueKind.String)
                throw Fail($"field '{p.Name}.{HeaderRules.Printable(e.Name)}' must be a string");
            var value = e.Value.GetString()!;
            if (isHeaders)
            {
                if (HeaderRules.Check(e.Name, value, limits.MaxHeaderBytes) is { } problem) throw Fail(problem);
            }
            else if (e.Name.Length == 0 || HeaderRules.HasLineBreakOrNul(e.Name) || e.Name.Contains('"'))
            {
                throw Fail($"form field name '{HeaderRules.Printable(e.Name)}' is not allowed");
            }
            entries.Add(new HeaderEntry(e.Name, value));
        }
        if (isHeaders && entries.Count > limits.MaxHeaderCount)
            throw Fail($"too many headers: {entries.Count} (the limit is {limits.MaxHeaderCount})");
        return entries;
    }
}
