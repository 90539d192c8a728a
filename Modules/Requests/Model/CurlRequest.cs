// The CurlRequest of docs/api.md (Executing requests), after parsing and validation. Every door (POST, GET bridge,
// jobs, schedules, channel) produces one of these and hands it to IRequestExecutor.
using System.Text.Json.Serialization;

namespace HoodyCurl.Requests.Model;

public enum AuthMethod { Basic, Digest, Ntlm, Negotiate }
public enum ResponseMode { Transparent, Json }
public enum ExecutionMode { Sync, Async }

public sealed record HeaderEntry(string Name, string Value);

public sealed record CurlRequest
{
    public required string Url { get; init; }
    /// <summary>Upper-case verb as given, or null (GET, or POST when a body is present).</summary>
    public string? Method { get; init; }
    /// <summary>Extra request headers in the order given.</summary>
    [JsonConverter(typeof(HeaderObjectConverter))]
    public IReadOnlyList<HeaderEntry>? Headers { get; init; }
    public string? UserAgent { get; init; }
    public string? Referer { get; init; }
    public string? Cookie { get; init; }
    public string? AuthUser { get; init; }
    public string? AuthPassword { get; init; }
    [JsonConverter(typeof(HoodyCurl.Kernel.Json.LowerEnumConverter<AuthMethod>))]
    public AuthMethod? AuthMethod { get; init; }
    public string? BearerToken { get; init; }
    /// <summary>Raw text body (`data`).</summary>
    public string? Data { get; init; }
    /// <summary>The `json` field as raw JSON text (any JSON value).</summary>
    [JsonConverter(typeof(HoodyCurl.Kernel.Json.RawJsonConverter))]
    public string? Json { get; init; }
    /// <summary>Binary body from the GET bridge's `data_base64` (never a POST-body field).</summary>
    [JsonPropertyName("data_base64")]
    public byte[]? DataBytes { get; init; }
    /// <summary>Multipart form fields (`form`), string values only.</summary>
    [JsonConverter(typeof(HeaderObjectConverter))]
    public IReadOnlyList<HeaderEntry>? Form { get; init; }
    public int? Timeout { get; init; }
    public int? ConnectTimeout { get; init; }
    public int? MaxRedirects { get; init; }
    public bool? FollowRedirects { get; init; }
    public long? MaxFilesize { get; init; }
    public bool? Insecure { get; init; }
    public string? CertType { get; init; }
    public bool? Compressed { get; init; }
    public bool? TcpNodelay { get; init; }
    public bool? Keepalive { get; init; }
    public int? KeepaliveTime { get; init; }
    public string? Range { get; init; }
    public long? SpeedLimit { get; init; }
    public int? SpeedTime { get; init; }
    public bool? Save { get; init; }
    public string? SavePath { get; init; }
    [JsonConverter(typeof(HoodyCurl.Kernel.Json.LowerEnumConverter<ResponseMode>))]
    public ResponseMode? Response { get; init; }
    [JsonConverter(typeof(HoodyCurl.Kernel.Json.LowerEnumConverter<ExecutionMode>))]
    public ExecutionMode? Mode { get; init; }
    public string? JobName { get; init; }
    public string? SessionId { get; init; }
    public int? RetryCount { get; init; }
    public int? RetryDelay { get; init; }
    /// <summary>Accepted and ignored on /request and the channel (docs/api.md D8).</summary>
    public string? Schedule { get; init; }

    /// <summary>The verb sent upstream: the explicit method, else POST when a body is present, else GET.</summary>
    [JsonIgnore]
    public string EffectiveMethod =>
        Method ?? (DataBytes is not null || Data is not null || Json is not null || Form is not null ? "POST" : "GET");

    [JsonIgnore]
    public bool HasBody => DataBytes is not null || Data is not null || Json is not null || Form is not null;
}
