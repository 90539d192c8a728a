// The Jobs module's JSON, source-generated (no reflection in the AOT binary): the stored response
// (jobs.response column), the event payloads (job_events.payload), and the wire shapes of docs/api.md (Jobs)
// (Job, JobSummary, event items). Property order follows the contract's examples.
using System.Text.Json.Serialization;
using HoodyCurl.Kernel.Json;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Jobs;

/// <summary>
/// libcurl's timings and sizes, flat, as both the stored response and the Job's `response` carry them:
/// the one list of these fields (orders 100–110 place them after a shape's own leading fields).
/// </summary>
public abstract class TransferFactsJson
{
    [JsonPropertyOrder(100)] public double TotalTime { get; init; }
    [JsonPropertyOrder(101)] public double NamelookupTime { get; init; }
    [JsonPropertyOrder(102)] public double ConnectTime { get; init; }
    [JsonPropertyOrder(103)] public double PretransferTime { get; init; }
    [JsonPropertyOrder(104)] public double StarttransferTime { get; init; }
    [JsonPropertyOrder(105)] public double RedirectTime { get; init; }
    [JsonPropertyOrder(106)] public int RedirectCount { get; init; }
    [JsonPropertyOrder(107)] public long SizeDownload { get; init; }
    [JsonPropertyOrder(108)] public long SizeUpload { get; init; }
    [JsonPropertyOrder(109)] public double SpeedDownload { get; init; }
    [JsonPropertyOrder(110)] public double SpeedUpload { get; init; }

    /// <summary>The same facts as the engine's TransferInfo (the only mapping between the two).</summary>
    [JsonIgnore]
    public TransferInfo Facts
    {
        get => new()
        {
            Total = TotalTime, NameLookup = NamelookupTime, Connect = ConnectTime, PreTransfer = PretransferTime,
            StartTransfer = StarttransferTime, Redirect = RedirectTime, RedirectCount = RedirectCount,
            SizeDownload = SizeDownload, SizeUpload = SizeUpload, SpeedDownload = SpeedDownload, SpeedUpload = SpeedUpload,
        };
        init
        {
            TotalTime = value.Total; NamelookupTime = value.NameLookup; ConnectTime = value.Connect;
            PretransferTime = value.PreTransfer; StarttransferTime = value.StartTransfer; RedirectTime = value.Redirect;
            RedirectCount = value.RedirectCount; SizeDownload = value.SizeDownload; SizeUpload = value.SizeUpload;
            SpeedDownload = value.SpeedDownload; SpeedUpload = value.SpeedUpload;
        }
    }
}

/// <summary>The jobs.response column: a StoredResponse with its facts flattened.</summary>
internal sealed class StoredResponseJson : TransferFactsJson
{
    [JsonPropertyOrder(0)] public int StatusCode { get; init; }
    [JsonPropertyOrder(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ContentType { get; init; }
    [JsonPropertyOrder(2)] public IReadOnlyList<HeaderEntry> RawHeaders { get; init; } = [];
    [JsonPropertyOrder(3)] public bool BodyDecoded { get; init; }
    [JsonPropertyOrder(4)] public long BodyBytes { get; init; }
    [JsonPropertyOrder(200)] public string EffectiveUrl { get; init; } = "";
    [JsonPropertyOrder(201), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? PrimaryIp { get; init; }
    [JsonPropertyOrder(202), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public SavedFile? Saved { get; init; }
    [JsonPropertyOrder(203), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Cache { get; init; }
}

/// <summary>The Job's `response`: the CurlResponse of docs/api.md (Jobs), flat.</summary>
internal sealed class JobResponseView : TransferFactsJson
{
    [JsonPropertyOrder(0)] public int StatusCode { get; init; }
    [JsonPropertyOrder(1)] public string? ContentType { get; init; }
    [JsonPropertyOrder(2), JsonConverter(typeof(StringPairsConverter))] public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
    [JsonPropertyOrder(3)] public IReadOnlyList<HeaderEntry> RawHeaders { get; init; } = [];
    /// <summary>The inline body as byte values; empty when too large to show (then body_truncated).</summary>
    [JsonPropertyOrder(4), JsonConverter(typeof(ByteNumbersConverter))] public byte[] Body { get; init; } = [];
    [JsonPropertyOrder(5)] public bool BodyTruncated { get; init; }
    [JsonPropertyOrder(6), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public SavedFile? Saved { get; init; }
    [JsonPropertyOrder(7)] public long BodyBytes { get; init; }
    [JsonPropertyOrder(200)] public string EffectiveUrl { get; init; } = "";
    [JsonPropertyOrder(201)] public string? PrimaryIp { get; init; }
    [JsonPropertyOrder(202), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Cache { get; init; }
}

/// <summary>The Job object of docs/api.md (Jobs) (request redacted, docs/api.md D9).</summary>
internal sealed record JobView(
    string Id,
    string? Name,
    string? SessionId,
    string Status,
    string CreatedAt,
    string? StartedAt,
    string? CompletedAt,
    string? Error,
    int RetryCount,
    int RetryAttempts,
    [property: JsonConverter(typeof(CurlRequestApiConverter))] CurlRequest Request,
    JobResponseView? Response,
    double Progress,
    bool CancelRequested,
    string? OriginalJobId,
    string? ScheduleId);

/// <summary>One row of the job list (docs/api.md (Jobs) JobSummary plus progress and schedule_id).</summary>
internal sealed record JobSummaryView(
    string Id, string? Name, string Method, string Url, string Status, string CreatedAt, string? CompletedAt,
    double Progress, string? ScheduleId);

/// <summary>An item of GET /jobs/{id}/events (docs/api.md E4); the payload is the stored JSON as is.</summary>
internal sealed record JobEventView(
    long Id, string JobId, string Type, string Level, string Message,
    [property: JsonConverter(typeof(RawJsonConverter))] string Payload,
    string Timestamp);

/// <summary>The payload of job.started / job.progress / job.completed (docs/api.md, Events); absent fields are left out.</summary>
internal sealed record JobEventPayload(
    string JobId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Progress = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Status = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StoredResponseJson))]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobSummaryView))]
[JsonSerializable(typeof(JobEventView))]
[JsonSerializable(typeof(JobEventPayload))]
internal sealed partial class JobsJsonContext : JsonSerializerContext;
