// The wire shapes of the sessions API (docs/api.md (Sessions)), source-generated (no reflection in the AOT binary).
using System.Text.Json.Serialization;
using HoodyCurl.Kernel.Json;

namespace HoodyCurl.Sessions.Endpoints;

/// <summary>A Session: `cookies` is the name → value snapshot, `scoped_cookies` every cookie with its scope.</summary>
internal sealed record SessionView(
    string Id,
    string CreatedAt,
    string LastUsed,
    [property: JsonConverter(typeof(StringPairsConverter))] IReadOnlyList<KeyValuePair<string, string>> Cookies,
    IReadOnlyList<ScopedCookieView> ScopedCookies);

/// <summary>One cookie with its scope; `expires` is null for a session cookie.</summary>
internal sealed record ScopedCookieView(
    string Name, string Value, string Domain, string Path, bool Secure, bool HostOnly, bool HttpOnly, string? Expires);

internal sealed record SessionDeletedView(string Message, string Id);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SessionView))]
[JsonSerializable(typeof(SessionDeletedView))]
internal sealed partial class SessionsJsonContext : JsonSerializerContext;
