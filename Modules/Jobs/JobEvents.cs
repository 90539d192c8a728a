// The durable job event log (table job_events) and the in-process broadcast bus. JobStore appends
// events inside the same transaction as the state change they describe, and publishes them after the
// commit while still holding its write lock, so subscribers see events in id order.
using System.Text.Json;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Time;
using Microsoft.Data.Sqlite;

namespace HoodyCurl.Jobs;

internal sealed class JobEvents(Database database) : IJobEvents
{
    private readonly Lock _gate = new();
    private JobEventSubscription[] _subscribers = [];

    public JobEventSubscription Subscribe(string? jobId = null, int capacity = 1024)
    {
        var subscription = new JobEventSubscription(jobId, capacity, Leave);
        lock (_gate) _subscribers = [.. _subscribers, subscription];
        return subscription;
    }

    public IReadOnlyList<JobEvent> ReadAfter(long afterId, string? jobId = null, int limit = 1000)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = jobId is null
            ? "SELECT id, job_id, type, level, message, payload, timestamp FROM job_events WHERE id > $after ORDER BY id LIMIT $limit"
            : "SELECT id, job_id, type, level, message, payload, timestamp FROM job_events WHERE job_id = $job AND id > $after ORDER BY id LIMIT $limit";
        command.Parameters.AddWithValue("$after", afterId);
        command.Parameters.AddWithValue("$limit", Math.Max(0, limit));
        if (jobId is not null) command.Parameters.AddWithValue("$job", jobId);
        using var reader = command.ExecuteReader();
        var events = new List<JobEvent>();
        while (reader.Read()) events.Add(Read(reader));
        return events;
    }

    /// <summary>Number of events of <paramref name="jobId"/> with id greater than <paramref name="afterId"/>.</summary>
    public long CountAfter(string jobId, long afterId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM job_events WHERE job_id = $job AND id > $after";
        command.Parameters.AddWithValue("$job", jobId);
        command.Parameters.AddWithValue("$after", afterId);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Inserts an event inside the caller's transaction and returns it with its id.</summary>
    internal static JobEvent Append(SqliteConnection connection, SqliteTransaction transaction, JobEventDraft draft, DateTimeOffset now)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO job_events (job_id, type, level, message, payload, timestamp)
            VALUES ($job, $type, $level, $message, $payload, $ts) RETURNING id
            """;
        var timestamp = Rfc3339.Format(now);
        command.Parameters.AddWithValue("$job", draft.JobId);
        command.Parameters.AddWithValue("$type", draft.Type);
        command.Parameters.AddWithValue("$level", draft.Level);
        command.Parameters.AddWithValue("$message", draft.Message);
        command.Parameters.AddWithValue("$payload", draft.PayloadJson);
        command.Parameters.AddWithValue("$ts", timestamp);
        var id = (long)command.ExecuteScalar()!;
        return new JobEvent(id, draft.JobId, draft.Type, draft.Level, draft.Message, draft.PayloadJson, DateTimeOffset.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Hands <paramref name="e"/> to every subscriber (never blocks).</summary>
    internal void Publish(JobEvent e)
    {
        var subscribers = Volatile.Read(ref _subscribers);
        foreach (var s in subscribers) s.Offer(e);
    }

    private void Leave(JobEventSubscription subscription)
    {
        lock (_gate) _subscribers = [.. _subscribers.Where(s => !ReferenceEquals(s, subscription))];
    }

    private static JobEvent Read(SqliteDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
        DateTimeOffset.Parse(r.GetString(6), System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>An event before it has an id.</summary>
internal sealed record JobEventDraft(string JobId, string Type, string Level, string Message, string PayloadJson)
{
    public static JobEventDraft Started(string jobId, string? name) =>
        new(jobId, JobEventTypes.Started, "info", "Job started", Payload(new JobEventPayload(jobId, Name: name)));

    public static JobEventDraft Progress(string jobId, double progress) =>
        new(jobId, JobEventTypes.Progress, "info",
            $"Progress {Math.Floor(progress * 100).ToString(System.Globalization.CultureInfo.InvariantCulture)}%",
            Payload(new JobEventPayload(jobId, Progress: Math.Round(progress, 4))));

    public static JobEventDraft Completed(string jobId, string status, string? error, int? statusCode)
    {
        var (level, message) = status switch
        {
            JobStatus.Completed => ("info", statusCode is { } code ? $"Job completed with HTTP {code}" : "Job completed"),
            JobStatus.Cancelled => ("warn", "Job cancelled"),
            _ => ("error", $"Job failed: {error}"),
        };
        return new(jobId, JobEventTypes.Completed, level, message, Payload(new JobEventPayload(jobId, Status: status)));
    }

    private static string Payload(JobEventPayload payload) => JsonSerializer.Serialize(payload, JobsJsonContext.Default.JobEventPayload);
}
