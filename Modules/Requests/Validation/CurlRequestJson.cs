// Reads and writes the CurlRequest object of docs/api.md (Executing requests). Parsing a caller's request is strict
// (deny unknown fields, the six rejected fields, typed values, header injection) and gives a message
// that names the field, so it stays hand-written; everything else goes through the source-generated
// RequestsJson context. Writing has two flavours: the API echo redacts secrets (docs/api.md D9); the storage copy
// keeps them (schedules and reruns need them) plus the GET bridge's binary body.
using System.Text.Json;
using System.Text.Json.Serialization;
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

    /// <summary>The six fields that exist in the schema but are refused with 400 (docs/api.md (Executing requests)).</summary>
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
        // Each field lands in a local and the record is built once at the end (a `with` per field would
        // copy all 35 properties for every field on the hot path).
        string? url = null, method = null, userAgent = null, referer = null, cookie = null, authUser = null,
            authPassword = null, bearerToken = null, data = null, json = null, certType = null, range = null,
            savePath = null, jobName = null, sessionId = null, schedule = null;
        List<HeaderEntry>? headers = null, form = null;
        AuthMethod? authMethod = null;
        ResponseMode? response = null;
        ExecutionMode? mode = null;
        int? timeout = null, connectTimeout = null, maxRedirects = null, keepaliveTime = null, speedTime = null,
            retryCount = null, retryDelay = null;
        long? maxFilesize = null, speedLimit = null;
        bool? followRedirects = null, insecure = null, compressed = null, tcpNodelay = null, keepalive = null, save = null;
        byte[]? dataBytes = null;
        foreach (var p in root.EnumerateObject())
        {
            var v = p.Value;
            switch (p.Name)
            {
                case "url": url = Str(p); break;
                case "method": method = RequestRules.Method(Str(p)); break;
                case "headers": headers = StringMap(p, limits, isHeaders: true); break;
                case "user_agent": userAgent = HeaderText(p); break;
                case "referer": referer = HeaderText(p); break;
                case "cookie": cookie = HeaderText(p); break;
                case "auth_user": authUser = HeaderText(p); break;
                case "auth_password": authPassword = HeaderText(p); break;
                case "auth_method": authMethod = RequestRules.AuthMethod(Str(p)); break;
                case "bearer_token": bearerToken = HeaderText(p); break;
                case "data": data = Str(p); break;
                case "json": json = v.ValueKind == JsonValueKind.Null ? null : v.GetRawText(); break;
                case "form": form = StringMap(p, limits, isHeaders: false); break;
                case "timeout": timeout = Int(p, 1, int.MaxValue) is { } t ? Math.Min(t, limits.MaxTimeoutSecs) : null; break;
                case "connect_timeout": connectTimeout = Int(p, 1, int.MaxValue) is { } c ? Math.Min(c, limits.MaxTimeoutSecs) : null; break;
                case "max_redirects": maxRedirects = Int(p, 0, 100); break;
                case "follow_redirects": followRedirects = Bool(p); break;
                case "max_filesize": maxFilesize = Long(p, 0); break;
                case "insecure": insecure = Bool(p); break;
                case "cert_type": certType = RequestRules.CertType(Str(p)); break;
                case "compressed": compressed = Bool(p); break;
                case "tcp_nodelay": tcpNodelay = Bool(p); break;
                case "keepalive": keepalive = Bool(p); break;
                case "keepalive_time": keepaliveTime = Int(p, 1, 86400); break;
                case "range": range = RequestRules.Range(Str(p)); break;
                case "speed_limit": speedLimit = Long(p, 0); break;
                case "speed_time": speedTime = Int(p, 1, 86400); break;
                case "save": save = Bool(p); break;
                case "save_path": savePath = RequestRules.SavePath(Str(p)); break;
                case "response": response = RequestRules.ResponseMode(Str(p)); break;
                case "mode": mode = RequestRules.ExecutionMode(Str(p)); break;
                case "job_name": jobName = flavor == CurlRequestJsonFlavor.Api ? RequestRules.JobName(Str(p)) : Str(p); break;
                case "session_id": sessionId = RequestRules.SessionId(Str(p)); break;
                case "retry_count": retryCount = Int(p, 0, limits.MaxRetryCount); break;
                case "retry_delay": retryDelay = Int(p, 0, limits.MaxRetryDelaySecs); break;
                case "schedule": schedule = Str(p); break;
                case "data_base64" when flavor == CurlRequestJsonFlavor.Storage:
                    dataBytes = Str(p) is { } b ? Convert.FromBase64String(b) : null;
                    break;
                default:
                    if (Array.IndexOf(RejectedFields, p.Name) >= 0)
                    {
                        if (v.ValueKind == JsonValueKind.Null) break; // explicit null means absent
                        throw Fail($"field '{p.Name}' is not supported: proxies and client certificates are rejected");
                    }
                    throw Fail($"unknown field '{ErrorText.Printable(p.Name)}'");
            }
        }
        if (url is null) throw Fail("field 'url' is required");
        var r = new CurlRequest
        {
            Url = RequestRules.Url(url, limits),
            Method = method, Headers = headers, UserAgent = userAgent, Referer = referer, Cookie = cookie,
            AuthUser = authUser, AuthPassword = authPassword, AuthMethod = authMethod, BearerToken = bearerToken,
            Data = data, Json = json, DataBytes = dataBytes, Form = form, Timeout = timeout,
            ConnectTimeout = connectTimeout, MaxRedirects = maxRedirects, FollowRedirects = followRedirects,
            MaxFilesize = maxFilesize, Insecure = insecure, CertType = certType, Compressed = compressed,
            TcpNodelay = tcpNodelay, Keepalive = keepalive, KeepaliveTime = keepaliveTime, Range = range,
            SpeedLimit = speedLimit, SpeedTime = speedTime, Save = save, SavePath = savePath, Response = response,
            Mode = mode, JobName = jobName, SessionId = sessionId, RetryCount = retryCount, RetryDelay = retryDelay,
            Schedule = schedule,
        };
        RequestRules.CheckCombination(r);
        // A stored request is checked again by the executor before it runs; refusing it here would make
        // an old record unreadable (and its job or schedule unlistable) instead of failing its next run.
        if (flavor == CurlRequestJsonFlavor.Api) RequestRules.CheckHeaderFields(r);
        return r;
    }

    /// <summary>
    /// The request as the given flavour shows it: "method" is always the effective verb; the Api flavour
    /// redacts secrets (docs/api.md D9) and leaves out the GET bridge's binary body.
    /// </summary>
    public static CurlRequest Shown(CurlRequest r, CurlRequestJsonFlavor flavor) => flavor == CurlRequestJsonFlavor.Storage
        ? r with { Method = r.EffectiveMethod }
        : r with
        {
            Url = Redaction.Url(r.Url),
            Method = r.EffectiveMethod,
            Headers = r.Headers is { } headers ? [.. headers.Select(h => Redaction.IsSecretHeader(h.Name) ? h with { Value = Redacted } : h)] : null,
            Cookie = Secret(r.Cookie),
            AuthPassword = Secret(r.AuthPassword),
            BearerToken = Secret(r.BearerToken),
            DataBytes = null,
        };

    /// <summary>Writes the request as JSON (source-generated shape). The Api flavour redacts secrets (docs/api.md D9).</summary>
    public static void Write(Utf8JsonWriter w, CurlRequest r, CurlRequestJsonFlavor flavor) =>
        JsonSerializer.Serialize(w, Shown(r, flavor), RequestsJson.Default.CurlRequest);

    public static byte[] ToUtf8(CurlRequest r, CurlRequestJsonFlavor flavor) =>
        JsonSerializer.SerializeToUtf8Bytes(Shown(r, flavor), RequestsJson.Default.CurlRequest);

    /// <summary>
    /// Reads a request a store wrote with the Storage flavour. It was validated when it was submitted and
    /// the executor checks it again before it runs, so this is the plain source-generated reader.
    /// </summary>
    public static CurlRequest ReadStored(string json) =>
        JsonSerializer.Deserialize(json, RequestsJson.Default.CurlRequest) ?? throw new JsonException("stored request is null");

    private static string? Secret(string? value) => value is null ? null : Redacted;

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
                throw Fail($"field '{p.Name}.{ErrorText.Printable(e.Name)}' must be a string");
            var value = e.Value.GetString()!;
            if (isHeaders)
            {
                if (HeaderRules.Check(e.Name, value, limits.MaxHeaderBytes) is { } problem) throw Fail(problem);
            }
            else if (e.Name.Length == 0 || HeaderRules.HasLineBreakOrNul(e.Name) || e.Name.Contains('"'))
            {
                throw Fail($"form field name '{ErrorText.Printable(e.Name)}' is not allowed");
            }
            entries.Add(new HeaderEntry(e.Name, value));
        }
        if (isHeaders && entries.Count > limits.MaxHeaderCount)
            throw Fail($"too many headers: {entries.Count} (the limit is {limits.MaxHeaderCount})");
        return entries;
    }
}

/// <summary>The source-generated JSON of the Requests module's plain shapes.</summary>
// MaxDepth: a stored `json` body may be as deep as --max-json-depth allowed when it was submitted.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = 1000)]
[JsonSerializable(typeof(CurlRequest))]
[JsonSerializable(typeof(TimingView))]
[JsonSerializable(typeof(MetadataView))]
internal sealed partial class RequestsJson : JsonSerializerContext;

/// <summary>Embeds a CurlRequest in another module's source-generated shape as the API shows it (secrets redacted).</summary>
public sealed class CurlRequestApiConverter : JsonConverter<CurlRequest>
{
    public override CurlRequest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the API echo of a request is write-only");

    public override void Write(Utf8JsonWriter writer, CurlRequest value, JsonSerializerOptions options) =>
        CurlRequestJson.Write(writer, value, CurlRequestJsonFlavor.Api);
}
