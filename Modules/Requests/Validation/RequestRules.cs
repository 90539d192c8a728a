// Value rules for CurlRequest fields, shared by the JSON parser and the GET bridge.
using System.Text.RegularExpressions;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Validation;

public static partial class RequestRules
{
    private static ApiErrorException Fail(string message) => new(ApiError.Validation(message));

    public static string? Method(string? value)
    {
        if (value is null) return null;
        if (value.Length is 0 or > 32 || !HeaderRules.IsToken(value))
            throw Fail($"field 'method' must be an HTTP method token, got '{ErrorText.Printable(value)}'");
        return value.ToUpperInvariant();
    }

    public static AuthMethod? AuthMethod(string? value) => value?.ToLowerInvariant() switch
    {
        null => null,
        "basic" => Model.AuthMethod.Basic,
        "digest" => Model.AuthMethod.Digest,
        "ntlm" => Model.AuthMethod.Ntlm,
        "negotiate" => Model.AuthMethod.Negotiate,
        _ => throw Fail($"field 'auth_method' must be one of basic, digest, ntlm, negotiate; got '{ErrorText.Printable(value)}'"),
    };

    public static string? CertType(string? value) => value?.ToUpperInvariant() switch
    {
        null => null,
        "PEM" => "PEM",
        "DER" => "DER",
        _ => throw Fail($"field 'cert_type' must be PEM or DER; got '{ErrorText.Printable(value)}'"),
    };

    public static ResponseMode? ResponseMode(string? value) => value?.ToLowerInvariant() switch
    {
        null => null,
        "transparent" => Model.ResponseMode.Transparent,
        "json" => Model.ResponseMode.Json,
        _ => throw Fail($"field 'response' must be transparent or json; got '{ErrorText.Printable(value)}'"),
    };

    public static ExecutionMode? ExecutionMode(string? value) => value?.ToLowerInvariant() switch
    {
        null => null,
        "sync" => Model.ExecutionMode.Sync,
        "async" => Model.ExecutionMode.Async,
        _ => throw Fail($"field 'mode' must be sync or async; got '{ErrorText.Printable(value)}'"),
    };

    [GeneratedRegex(@"^(\d+-\d*|-\d+)(,(\d+-\d*|-\d+))*$")]
    private static partial Regex RangePattern();

    public static string? Range(string? value)
    {
        if (value is null) return null;
        if (value.Length > 256 || !RangePattern().IsMatch(value))
            throw Fail($"field 'range' must look like 0-499 or 500- or -500; got '{ErrorText.Printable(value)}'");
        return value;
    }

    /// <summary>Longest `job_name` (and schedule/link `name`), in characters.</summary>
    public const int MaxNameLength = 256;

    public static string? JobName(string? value)
    {
        if (value is not null && value.Length > MaxNameLength) throw Fail($"field 'job_name' must be at most {MaxNameLength} characters");
        return value;
    }

    [GeneratedRegex(@"^[A-Za-z0-9._:@-]{1,128}$")]
    private static partial Regex SessionIdPattern();

    /// <summary>Session ids of docs/api.md D13.</summary>
    public static string? SessionId(string? value)
    {
        if (value is null) return null;
        // "." and ".." match the pattern but name no jar that could ever be read or deleted.
        if (!SessionIdPattern().IsMatch(value) || value is "." or "..")
            throw Fail("field 'session_id' must be 1 to 128 characters of A-Z a-z 0-9 . _ : @ -, and not '.' or '..'");
        return value;
    }

    /// <summary>save_path rules of docs/api.md (Storage), as the storage module owns them.</summary>
    public static string? SavePath(string? value)
    {
        if (value is null) return null;
        if (HoodyCurl.Storage.StorageRules.SavePathProblem(value) is { } problem) throw Fail($"field 'save_path' {problem}");
        return value;
    }

    public static string Url(string value, RequestLimits limits)
    {
        if (value.Length == 0) throw Fail("field 'url' must not be empty");
        if (value.Length > limits.MaxUrlLength) throw Fail($"field 'url' is longer than {limits.MaxUrlLength} characters");
        foreach (var c in value)
            if (c <= 0x20 || c == 0x7f) throw Fail("field 'url' must not contain spaces or control characters");
        var colon = value.IndexOf("://", StringComparison.Ordinal);
        if (colon <= 0) throw Fail("field 'url' must be an absolute URL like https://host/path");
        return value;
    }

    /// <summary>
    /// The one check every door's request passes (the parsers call it, and the executor again before
    /// any transfer, so a request built some other way cannot skip it): no caller-set framing or
    /// connection header, and no control character other than tab in anything that becomes a header.
    /// </summary>
    public static void CheckHeaderFields(CurlRequest r)
    {
        if (r.Headers is { } headers)
        {
            foreach (var h in headers)
            {
                if (HeaderRules.IsCallerForbidden(h.Name))
                    throw Fail($"header '{ErrorText.Printable(h.Name)}' is not allowed: the sidecar sets framing and connection headers itself");
                if (HeaderRules.HasLineBreakOrNul(h.Name) || !HeaderRules.IsToken(h.Name))
                    throw Fail($"header name '{ErrorText.Printable(h.Name)}' is not a valid HTTP token");
                if (HeaderRules.IndexOfControl(h.Value) >= 0)
                    throw Fail($"header '{ErrorText.Printable(h.Name)}' has a control character in its value");
            }
        }
        HeaderField("user_agent", r.UserAgent);
        HeaderField("referer", r.Referer);
        HeaderField("cookie", r.Cookie);
        HeaderField("auth_user", r.AuthUser);
        HeaderField("auth_password", r.AuthPassword);
        HeaderField("bearer_token", r.BearerToken);
    }

    private static void HeaderField(string field, string? value)
    {
        if (value is not null && HeaderRules.IndexOfControl(value) >= 0)
            throw Fail($"field '{field}' has a control character (only tab is allowed)");
    }

    /// <summary>Rules across fields.</summary>
    public static void CheckCombination(CurlRequest r)
    {
        var bodies = (r.Data is null ? 0 : 1) + (r.Json is null ? 0 : 1) + (r.Form is null ? 0 : 1);
        if (bodies > 1 && r.DataBytes is null)
            throw Fail("only one of 'data', 'json' and 'form' may be given");
        if (r.AuthPassword is not null && r.AuthUser is null)
            throw Fail("field 'auth_password' needs 'auth_user'");
        if (r.Method is "HEAD" && r.HasBody)
            throw Fail("a HEAD request cannot carry a body");
    }
}
