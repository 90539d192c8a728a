// The wire shapes of the links API: the create body is read strictly with JsonDocument (field-naming
// errors); the answers are the source-generated views of LinksJson.cs (no reflection): the create body, the link record (request redacted, LinkRedaction + docs/api.md D9) and
// a history entry. The token appears in one answer only: the create answer's `path`.
using System.Globalization;
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Time;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Links.Endpoints;

internal static class LinkJson
{
    private const int MaxMethods = 16;

    /// <summary>
    /// Reads `{request, name?, expires_at?, max_uses?, methods?, params?, forward_body?, mode?}`. The request
    /// is parsed exactly like a POST /request body (same parser, same rejected fields); everything else
    /// strictly, with a message naming the field.
    /// </summary>
    public static LinkDraft ParseCreate(JsonElement root, RequestLimits limits, LinksOptions options)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Fail("request body must be a JSON object");
        JsonElement? request = null;
        string? name = null, mode = null;
        DateTimeOffset? expiresAt = null;
        long? maxUses = null;
        List<string>? methods = null;
        List<LinkParam>? parameters = null;
        var forwardBody = false;
        foreach (var p in root.EnumerateObject())
        {
            var v = p.Value;
            switch (p.Name)
            {
                case "request": request = v.ValueKind == JsonValueKind.Null ? null : v; break;
                case "name":
                    name = OptionalString(p);
                    if (name is not null && name.Length > options.MaxNameLength)
                        throw Fail($"field 'name' must be at most {options.MaxNameLength} characters");
                    break;
                case "expires_at": expiresAt = OptionalString(p) is { } text ? ParseTime(text) : null; break;
                case "max_uses":
                    if (v.ValueKind == JsonValueKind.Null) break;
                    if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n) || n < 1)
                        throw Fail("field 'max_uses' must be an integer of at least 1");
                    maxUses = n;
                    break;
                case "methods": methods = ParseMethods(p); break;
                case "params": parameters = ParseParams(p, options); break;
                case "forward_body":
                    forwardBody = v.ValueKind switch
                    {
                        JsonValueKind.Null => false,
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        _ => throw Fail("field 'forward_body' must be a boolean"),
                    };
                    break;
                case "mode": mode = OptionalString(p); break;
                default: throw Fail($"unknown field '{ErrorText.Printable(p.Name)}'");
            }
        }
        if (request is not { } requestElement) throw Fail("field 'request' is required");
        CurlRequest parsed;
        try
        {
            parsed = CurlRequestJson.Parse(requestElement, limits, CurlRequestJsonFlavor.Api);
        }
        catch (ApiErrorException e) when (e.Error.Code == ErrorCodes.Validation)
        {
            throw Fail($"request: {e.Error.Message}");
        }
        var linkMode = RequestRules.ExecutionMode(mode);
        if (linkMode is { } m && parsed.Mode is { } rm && m != rm)
            throw Fail("field 'mode' and request.mode disagree; give one of them");
        parsed = parsed with { Mode = linkMode ?? parsed.Mode ?? ExecutionMode.Sync, Schedule = null };
        if (forwardBody && parsed.HasBody)
            throw Fail("forward_body sends the opener's body: the stored request must not have 'data', 'json' or 'form'");
        parameters ??= [];
        LinkParams.CheckDeclarations(parameters, parsed, forwardBody);
        return new LinkDraft
        {
            Request = parsed,
            Name = name,
            ExpiresAt = expiresAt,
            MaxUses = maxUses,
            Methods = methods ?? ["GET"],
            Params = parameters,
            ForwardBody = forwardBody,
        };
    }

    private static List<string> ParseMethods(JsonProperty p)
    {
        if (p.Value.ValueKind == JsonValueKind.Null) return ["GET"];
        if (p.Value.ValueKind != JsonValueKind.Array) throw Fail("field 'methods' must be an array of HTTP methods");
        var methods = new List<string>();
        foreach (var e in p.Value.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String) throw Fail("field 'methods' must be an array of HTTP methods");
            string method;
            try
            {
                method = RequestRules.Method(e.GetString())!;
            }
            catch (ApiErrorException)
            {
                throw Fail($"field 'methods' has '{ErrorText.Printable(e.GetString() ?? "")}', which is not an HTTP method token");
            }
            if (!methods.Contains(method)) methods.Add(method);
        }
        if (methods.Count is 0 or > MaxMethods) throw Fail($"field 'methods' must list 1 to {MaxMethods} methods");
        return methods;
    }

    private static List<LinkParam> ParseParams(JsonProperty p, LinksOptions options)
    {
        if (p.Value.ValueKind == JsonValueKind.Null) return [];
        if (p.Value.ValueKind != JsonValueKind.Array) throw Fail("field 'params' must be an array of {name, in, required?, pattern?}");
        var list = new List<LinkParam>();
        foreach (var e in p.Value.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object) throw Fail("field 'params' must be an array of {name, in, required?, pattern?}");
            string? name = null, location = null, pattern = null;
            var required = false;
            foreach (var f in e.EnumerateObject())
            {
                switch (f.Name)
                {
                    case "name": name = OptionalString(f, "params[].name"); break;
                    case "in": location = OptionalString(f, "params[].in"); break;
                    case "pattern": pattern = OptionalString(f, "params[].pattern"); break;
                    case "required":
                        required = f.Value.ValueKind switch
                        {
                            JsonValueKind.Null => false,
                            JsonValueKind.True => true,
                            JsonValueKind.False => false,
                            _ => throw Fail("field 'params[].required' must be a boolean"),
                        };
                        break;
                    default: throw Fail($"unknown field 'params[].{ErrorText.Printable(f.Name)}'");
                }
            }
            if (name is null || !LinkParams.IsValidName(name))
                throw Fail("field 'params[].name' must be 1 to 64 characters of A-Z a-z 0-9 - . _ ~");
            var where = location switch
            {
                "query" => ParamLocation.Query,
                "header" => ParamLocation.Header,
                "body" => ParamLocation.Body,
                _ => throw Fail($"field 'params[].in' of '{name}' must be query, header or body"),
            };
            if (pattern is not null)
            {
                if (pattern.Length > options.MaxPatternLength)
                    throw Fail($"field 'params[].pattern' of '{name}' is longer than {options.MaxPatternLength} characters");
                LinkParams.Compile(pattern, options.PatternTimeout);
            }
            list.Add(new LinkParam(name, where, required, pattern));
        }
        if (list.Count > options.MaxParams) throw Fail($"field 'params' may declare at most {options.MaxParams} parameters");
        return list;
    }

    /// <summary>RFC 3339 with a time zone (Z or ±hh:mm), e.g. 2026-01-15T10:30:00Z.</summary>
    internal static DateTimeOffset ParseTime(string text)
    {
        var hasZone = text.EndsWith('Z') || text.EndsWith('z') || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');
        if (text.Length < 20 || !hasZone || text[10] is not ('T' or 't') ||
            !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var value))
            throw Fail($"field 'expires_at' must be an RFC 3339 time with a zone, like 2026-01-15T10:30:00Z; got '{ErrorText.Printable(text)}'");
        return value.ToUniversalTime();
    }

    /// <summary>The link record; `request` redacted. <paramref name="created"/> adds `link_id` and the one-time `path`.</summary>
    public static void Write(Utf8JsonWriter w, LinkRecord link, DateTimeOffset now, CreatedLink? created = null) =>
        JsonSerializer.Serialize(w, new LinkView(
            created is null ? null : link.Id, created?.Path, link.Id, link.Name, link.State(now), Rfc3339.Format(link.CreatedAt),
            Time(link.ExpiresAt), link.MaxUses, link.UseCount, Time(link.LastUsedAt), Time(link.RevokedAt), link.Methods, link.Params,
            link.ForwardBody, link.Mode == ExecutionMode.Async ? "async" : "sync", LinkRedaction.ForDisplay(link.Request)),
            LinksJsonContext.Default.LinkView);

    public static void WriteHistory(Utf8JsonWriter w, LinkHistoryEntry e) => JsonSerializer.Serialize(w, new LinkHistoryView(
        e.Id, Rfc3339.Format(e.At), e.Caller, e.Method, e.Status, e.JobId, e.Bytes, e.RequestBytes, e.DurationMs, e.Error),
        LinksJsonContext.Default.LinkHistoryView);

    private static string? Time(DateTimeOffset? value) => value is { } v ? Rfc3339.Format(v) : null;

    private static string? OptionalString(JsonProperty p, string? field = null) => p.Value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => p.Value.GetString(),
        _ => throw Fail($"field '{field ?? p.Name}' must be a string"),
    };

    private static ApiErrorException Fail(string message) => new(ApiError.Validation(message));
}
