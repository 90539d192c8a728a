// The wire shapes of the jobs API: the Job object of docs/api.md (Jobs) (request redacted, docs/api.md D9), the
// JobSummary and the event items of E4 (docs/api.md, Jobs), mapped onto the source-generated views of JobsJson.cs.
using System.Text.Json;
using HoodyCurl.Kernel.Time;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Jobs.Endpoints;

internal static class JobJson
{
    /// <summary>
    /// The Job object. <paramref name="inlineBody"/> is the whole body when it is small enough to show
    /// (docs/api.md D15); null shows `body: []` with `body_truncated: true`.
    /// </summary>
    public static void WriteJob(Utf8JsonWriter w, JobRecord job, byte[]? inlineBody) =>
        JsonSerializer.Serialize(w, View(job, inlineBody), JobsJsonContext.Default.JobView);

    internal static JobView View(JobRecord job, byte[]? inlineBody) => new(
        job.Id, job.Name, job.SessionId, job.Status, Rfc3339.Format(job.CreatedAt), Time(job.StartedAt), Time(job.CompletedAt),
        job.Error,
        RetryCount: 0, // reserved; the policy lives in request.retry_count (docs/api.md (Jobs))
        job.RetryAttempts, job.Request, job.Response is { } response ? Response(response, inlineBody) : null,
        Math.Round(job.Progress, 4), job.CancelRequested, job.OriginalJobId, job.ScheduleId);

    /// <summary>The CurlResponse, flat (docs/api.md (Jobs)).</summary>
    private static JobResponseView Response(StoredResponse r, byte[]? inlineBody)
    {
        // A body libcurl decoded (compressed: true) is no longer described by its Content-Encoding and
        // encoded Content-Length: leave them out, as /result and the sync envelope do.
        var headers = r.BodyDecoded ? ResponseHeaders.WithoutEncoding(r.RawHeaders) : r.RawHeaders;
        return new JobResponseView
        {
            StatusCode = r.StatusCode,
            ContentType = r.ContentType,
            Headers = ResponseHeaders.Map(headers),
            RawHeaders = headers,
            Body = inlineBody ?? [],
            BodyTruncated = inlineBody is null,
            Saved = r.Saved,
            BodyBytes = r.BodyBytes,
            Facts = r.Info,
            EffectiveUrl = Redaction.Url(r.EffectiveUrl),
            PrimaryIp = r.PrimaryIp,
            Cache = r.Cache,
        };
    }

    public static void WriteSummary(Utf8JsonWriter w, JobSummary s) => JsonSerializer.Serialize(w, new JobSummaryView(
        s.Id, s.Name, s.Method, Redaction.Url(s.Url), s.Status, Rfc3339.Format(s.CreatedAt), Time(s.CompletedAt),
        Math.Round(s.Progress, 4), s.ScheduleId), JobsJsonContext.Default.JobSummaryView);

    public static void WriteEvent(Utf8JsonWriter w, JobEvent e) => JsonSerializer.Serialize(w, new JobEventView(
        e.Id, e.JobId, e.Type, e.Level, e.Message, e.PayloadJson, Rfc3339.Format(e.Timestamp)), JobsJsonContext.Default.JobEventView);

    private static string? Time(DateTimeOffset? value) => value is { } v ? Rfc3339.Format(v) : null;
}
