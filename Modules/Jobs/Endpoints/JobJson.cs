// The wire shapes of the jobs API, written with Utf8JsonWriter (no reflection): the Job object of
// rest.md §4.2 (request redacted, decisions D9), the JobSummary of §4.1, and the event items of E4.
using System.Text.Json;
using HoodyCurl.Kernel.Time;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Jobs.Endpoints;

internal static class JobJson
{
    /// <summary>
    /// The Job object. <paramref name="inlineBody"/> is the whole body when it is small enough to show
    /// (decisions D15); null shows `body: []` with `body_truncated: true`.
    /// </summary>
    public static void WriteJob(Utf8JsonWriter w, JobRecord job, byte[]? inlineBody)
    {
        w.WriteStartObject();
        w.WriteString("id", job.Id);
        Nullable(w, "name", job.Name);
        Nullable(w, "session_id", job.SessionId);
        w.WriteString("status", job.Status);
        w.WriteString("created_at", Rfc3339.Format(job.CreatedAt));
        Nullable(w, "started_at", job.StartedAt);
        Nullable(w, "completed_at", job.CompletedAt);
        Nullable(w, "error", job.Error);
        w.WriteNumber("retry_count", 0); // reserved; the policy lives in request.retry_count (rest.md §4.2)
        w.WriteNumber("retry_attempts", job.RetryAttempts);
        w.WritePropertyName("request");
        CurlRequestJson.Write(w, job.Request, CurlRequestJsonFlavor.Api);
        if (job.Response is { } response)
        {
            w.WritePropertyName("response");
            WriteResponse(w, response, inlineBody);
        }
        else
        {
            w.WriteNull("response");
        }
        w.WriteNumber("progress", Math.Round(job.Progress, 4));
        w.WriteBoolean("cancel_requested", job.CancelRequested);
        Nullable(w, "original_job_id", job.OriginalJobId);
        Nullable(w, "schedule_id", job.ScheduleId);
        w.WriteEndObject();
    }

    /// <summary>The CurlResponse, flat (rest.md §4.2).</summary>
    public static void WriteResponse(Utf8JsonWriter w, StoredResponse r, byte[]? inlineBody)
    {
        w.WriteStartObject();
        w.WriteNumber("status_code", r.StatusCode);
        Nullable(w, "content_type", r.ContentType);
        // A body libcurl decoded (compressed: true) is no longer described by its Content-Encoding and
        // encoded Content-Length: leave them out, as /result and the sync envelope do.
        var headers = r.BodyDecoded ? HoodyCurl.Requests.Model.ResponseHeaders.WithoutEncoding(r.RawHeaders) : r.RawHeaders;
        w.WriteStartObject("headers");
        foreach (var (name, value) in HeaderMap.Build(headers)) w.WriteString(name, value);
        w.WriteEndObject();
        w.WriteStartArray("raw_headers");
        foreach (var h in headers)
        {
            w.WriteStartObject();
            w.WriteString("name", h.Name);
            w.WriteString("value", h.Value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("body");
        if (inlineBody is not null)
            foreach (var b in inlineBody) w.WriteNumberValue(b);
        w.WriteEndArray();
        w.WriteBoolean("body_truncated", inlineBody is null);
        r.Saved?.Write(w);
        w.WriteNumber("body_bytes", r.BodyBytes);
        w.WriteNumber("total_time", r.Info.Total);
        w.WriteNumber("namelookup_time", r.Info.NameLookup);
        w.WriteNumber("connect_time", r.Info.Connect);
        w.WriteNumber("pretransfer_time", r.Info.PreTransfer);
        w.WriteNumber("starttransfer_time", r.Info.StartTransfer);
        w.WriteNumber("redirect_time", r.Info.Redirect);
        w.WriteNumber("redirect_count", r.Info.RedirectCount);
        w.WriteNumber("size_download", r.Info.SizeDownload);
        w.WriteNumber("size_upload", r.Info.SizeUpload);
        w.WriteNumber("speed_download", r.Info.SpeedDownload);
        w.WriteNumber("speed_upload", r.Info.SpeedUpload);
        w.WriteString("effective_url", Redaction.Url(r.EffectiveUrl));
        Nullable(w, "primary_ip", r.PrimaryIp);
        if (r.Cache is not null) w.WriteString("cache", r.Cache);
        w.WriteEndObject();
    }

    public static void WriteSummary(Utf8JsonWriter w, JobSummary s)
    {
        w.WriteStartObject();
        w.WriteString("id", s.Id);
        Nullable(w, "name", s.Name);
        w.WriteString("method", s.Method);
        w.WriteString("url", Redaction.Url(s.Url));
        w.WriteString("status", s.Status);
        w.WriteString("created_at", Rfc3339.Format(s.CreatedAt));
        Nullable(w, "completed_at", s.CompletedAt);
        w.WriteNumber("progress", Math.Round(s.Progress, 4));
        Nullable(w, "schedule_id", s.ScheduleId);
        w.WriteEndObject();
    }

    public static void WriteEvent(Utf8JsonWriter w, JobEvent e)
    {
        w.WriteStartObject();
        w.WriteNumber("id", e.Id);
        w.WriteString("job_id", e.JobId);
        w.WriteString("type", e.Type);
        w.WriteString("level", e.Level);
        w.WriteString("message", e.Message);
        w.WritePropertyName("payload");
        w.WriteRawValue(e.PayloadJson, skipInputValidation: true);
        w.WriteString("timestamp", Rfc3339.Format(e.Timestamp));
        w.WriteEndObject();
    }

    private static void Nullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static void Nullable(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v) w.WriteString(name, Rfc3339.Format(v));
        else w.WriteNull(name);
    }
}
