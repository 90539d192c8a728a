// The job store: table `jobs` in the shared SQLite database, with the module's numbered migrations.
// Every state change is one IMMEDIATE transaction that also appends its event to job_events, guarded
// by a compare-and-set on the current status (UPDATE … WHERE status = 'pending'), so a job leaves
// each state exactly once whoever races for it (worker, cancel, recovery). Commits are
// synchronous=FULL: a job the API called completed is completed after any crash.
//
// Writes are serialised by one in-process lock (SQLite has one writer anyway); events are published
// on the bus after the commit and before the lock is released, so the bus sees them in id order.
using System.Globalization;
using System.Text.Json;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Time;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;
using Microsoft.Data.Sqlite;

namespace HoodyCurl.Jobs;

internal sealed class JobStore
{
    public const string Module = "jobs";

    /// <summary>Numbered migrations of the jobs module; append only, never edit a shipped one.</summary>
    public static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE jobs (
            seq              INTEGER PRIMARY KEY AUTOINCREMENT,
            id               TEXT    NOT NULL UNIQUE,
            name             TEXT,
            session_id       TEXT,
            method           TEXT    NOT NULL,
            url              TEXT    NOT NULL,
            status           TEXT    NOT NULL CHECK (status IN ('pending','running','completed','failed','cancelled')),
            created_at       TEXT    NOT NULL,
            started_at       TEXT,
            completed_at     TEXT,
            error            TEXT,
            retry_attempts   INTEGER NOT NULL DEFAULT 0,
            request          TEXT    NOT NULL,
            response         TEXT,
            progress         REAL    NOT NULL DEFAULT 0,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            original_job_id  TEXT,
            schedule_id      TEXT
        );
        CREATE INDEX jobs_by_status    ON jobs (status, seq);
        CREATE INDEX jobs_by_name      ON jobs (name, seq) WHERE name IS NOT NULL;
        CREATE INDEX jobs_by_schedule  ON jobs (schedule_id, seq) WHERE schedule_id IS NOT NULL;
        CREATE INDEX jobs_by_completed ON jobs (completed_at) WHERE completed_at IS NOT NULL;
        CREATE TABLE job_events (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id    TEXT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            type      TEXT    NOT NULL,
            level     TEXT    NOT NULL,
            message   TEXT    NOT NULL,
            payload   TEXT    NOT NULL,
            timestamp TEXT    NOT NULL
        );
        CREATE INDEX job_events_by_job ON job_events (job_id, id);
        """,
    ];


    private const string Columns =
        "id, name, session_id, status, method, url, created_at, started_at, completed_at, error, retry_attempts, " +
        "request, response, progress, cancel_requested, original_job_id, schedule_id";

    private readonly Database _database;
    private readonly JobEvents _events;
    private readonly TimeProvider _time;
    private readonly Lock _writeGate = new();

    public JobStore(Database database, JobEvents events, TimeProvider time)
    {
        _database = database;
        _events = events;
        _time = time;
        database.Migrate(Module, Migrations);
    }

    public Database Database => _database;

    public DateTimeOffset Now => _time.GetUtcNow();

    public void Insert(JobRecord job) => InsertMany([job]);

    /// <summary>Stores new jobs in one transaction: one durable commit however many there are.</summary>
    public void InsertMany(IReadOnlyList<JobRecord> jobs)
    {
        if (jobs.Count == 0) return;
        var requests = jobs.Select(j => System.Text.Encoding.UTF8.GetString(CurlRequestJson.ToUtf8(j.Request, CurlRequestJsonFlavor.Storage))).ToArray();
        Write((c, tx, _) =>
        {
            using var command = c.CreateCommand();
            command.Transaction = tx;
            command.CommandText = """
                INSERT INTO jobs (id, name, session_id, status, method, url, created_at, request, original_job_id, schedule_id)
                VALUES ($id, $name, $session, $status, $method, $url, $created, $request, $original, $schedule)
                """;
            for (var i = 0; i < jobs.Count; i++)
            {
                var job = jobs[i];
                command.Parameters.Clear();
                command.Parameters.AddWithValue("$id", job.Id);
                command.Parameters.AddWithValue("$name", (object?)job.Name ?? DBNull.Value);
                command.Parameters.AddWithValue("$session", (object?)job.SessionId ?? DBNull.Value);
                command.Parameters.AddWithValue("$status", job.Status);
                command.Parameters.AddWithValue("$method", job.Method);
                command.Parameters.AddWithValue("$url", job.Url);
                command.Parameters.AddWithValue("$created", Rfc3339.Format(job.CreatedAt));
                command.Parameters.AddWithValue("$request", requests[i]);
                command.Parameters.AddWithValue("$original", (object?)job.OriginalJobId ?? DBNull.Value);
                command.Parameters.AddWithValue("$schedule", (object?)job.ScheduleId ?? DBNull.Value);
                command.ExecuteNonQuery();
            }
            return 0;
        });
    }

    public JobRecord? Get(string id)
    {
        using var connection = _database.Open();
        return Get(connection, null, id);
    }

    public JobPage List(JobQuery query)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction(deferred: true); // one snapshot for count + page
        var where = new List<string>();
        using var count = connection.CreateCommand();
        using var page = connection.CreateCommand();
        count.Transaction = transaction;
        page.Transaction = transaction;
        void Bind(string name, object value)
        {
            count.Parameters.AddWithValue(name, value);
            page.Parameters.AddWithValue(name, value);
        }
        if (query.Statuses.Count > 0)
        {
            var names = new List<string>();
            for (var i = 0; i < query.Statuses.Count; i++)
            {
                names.Add("$s" + i.ToString(CultureInfo.InvariantCulture));
                Bind(names[^1], query.Statuses[i]);
            }
            where.Add($"status IN ({string.Join(", ", names)})");
        }
        if (query.Name is not null) { where.Add("name = $name"); Bind("$name", query.Name); }
        if (query.ScheduleId is not null) { where.Add("schedule_id = $schedule"); Bind("$schedule", query.ScheduleId); }
        var filter = where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where);
        count.CommandText = "SELECT count(*) FROM jobs" + filter;
        var total = (long)count.ExecuteScalar()!;

        page.CommandText = "SELECT id, name, method, url, status, created_at, completed_at, progress, schedule_id FROM jobs"
            + filter + " ORDER BY seq DESC LIMIT $limit OFFSET $offset";
        var limit = query.Limit ?? int.MaxValue;
        page.Parameters.AddWithValue("$limit", (long)limit);
        page.Parameters.AddWithValue("$offset", (long)(query.Page - 1) * limit);
        var items = new List<JobSummary>();
        using (var reader = page.ExecuteReader())
        {
            while (reader.Read())
            {
                items.Add(new JobSummary(
                    reader.GetString(0), NullableString(reader, 1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    Time(reader.GetString(5)), NullableTime(reader, 6), reader.GetDouble(7), NullableString(reader, 8)));
            }
        }
        transaction.Commit();
        return new JobPage(items, total);
    }

    /// <summary>
    /// The total and the page's summaries read lazily, 100 rows per query (keyset on seq, newest first), so
    /// a caller that writes each one as it comes holds one batch, never the whole table (issue 16 item 6,
    /// issue 12 §3: a list without `limit` is every job).
    /// </summary>
    public (long Total, IEnumerable<JobSummary> Items) ListLazily(JobQuery query)
    {
        var (filter, bind) = Filter(query);
        long total;
        using (var connection = _database.Open())
        using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT count(*) FROM jobs" + (filter.Count == 0 ? "" : " WHERE " + string.Join(" AND ", filter));
            bind(count);
            total = (long)count.ExecuteScalar()!;
        }
        var offset = query.Limit is { } l ? (long)(query.Page - 1) * l : 0L;
        return (total, SummaryBatches(filter, bind, offset, query.Limit ?? long.MaxValue));
    }

    private static (List<string> Where, Action<SqliteCommand> Bind) Filter(JobQuery query)
    {
        var where = new List<string>();
        var values = new List<(string, object)>();
        if (query.Statuses.Count > 0)
        {
            var names = new List<string>();
            for (var i = 0; i < query.Statuses.Count; i++)
            {
                names.Add("$s" + i.ToString(CultureInfo.InvariantCulture));
                values.Add((names[^1], query.Statuses[i]));
            }
            where.Add($"status IN ({string.Join(", ", names)})");
        }
        if (query.Name is not null) { where.Add("name = $name"); values.Add(("$name", query.Name)); }
        if (query.ScheduleId is not null) { where.Add("schedule_id = $schedule"); values.Add(("$schedule", query.ScheduleId)); }
        return (where, command => { foreach (var (name, value) in values) command.Parameters.AddWithValue(name, value); });
    }

    private IEnumerable<JobSummary> SummaryBatches(List<string> filter, Action<SqliteCommand> bind, long offset, long wanted)
    {
        const int batch = 100;
        long beforeSeq = long.MaxValue, sent = 0;
        var first = true;
        while (sent < wanted)
        {
            var rows = new List<(long Seq, JobSummary Summary)>(batch);
            using (var connection = _database.Open())
            using (var select = connection.CreateCommand())
            {
                // The first query skips the page's offset; the next ones continue below the last seq seen.
                var where = new List<string>(filter);
                if (!first) where.Add("seq < $before");
                select.CommandText = "SELECT id, name, method, url, status, created_at, completed_at, progress, schedule_id, seq FROM jobs"
                    + (where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where))
                    + " ORDER BY seq DESC LIMIT $limit" + (first ? " OFFSET $offset" : "");
                bind(select);
                select.Parameters.AddWithValue("$limit", Math.Min(batch, wanted - sent));
                if (first) select.Parameters.AddWithValue("$offset", offset);
                else select.Parameters.AddWithValue("$before", beforeSeq);
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    rows.Add((reader.GetInt64(9), new JobSummary(
                        reader.GetString(0), NullableString(reader, 1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                        Time(reader.GetString(5)), NullableTime(reader, 6), reader.GetDouble(7), NullableString(reader, 8))));
                }
            }
            first = false;
            foreach (var (seq, summary) in rows)
            {
                beforeSeq = seq;
                sent++;
                yield return summary;
            }
            if (rows.Count < batch) yield break;
        }
    }

    /// <summary>pending → running. Returns the running job, or null when it was no longer pending.</summary>
    public JobRecord? TryStart(string id)
    {
        var now = Now;
        return Write((c, tx, events) =>
        {
            using var command = c.CreateCommand();
            command.Transaction = tx;
            command.CommandText = """
                UPDATE jobs SET status = 'running', started_at = $now, progress = 0, retry_attempts = 0, error = NULL
                WHERE id = $id AND status = 'pending' RETURNING name
                """;
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$now", Rfc3339.Format(now));
            using (var reader = command.ExecuteReader())
            {
                if (!reader.Read()) return null;
                events.Add(JobEvents.Append(c, tx, JobEventDraft.Started(id, NullableString(reader, 0)), now));
            }
            return Get(c, tx, id);
        });
    }

    /// <summary>
    /// running → terminal (completed, failed or cancelled). False when the job was not running
    /// (nothing changes). A completed job gets progress 1.
    /// </summary>
    public bool TryFinish(string id, string status, string? error, StoredResponse? response, int retryAttempts)
    {
        var now = Now;
        return Write((c, tx, events) =>
        {
            if (Database.Execute(c, tx, """
                UPDATE jobs SET status = $status, completed_at = $now, error = $error, response = $response,
                    retry_attempts = $attempts, progress = CASE WHEN $status = 'completed' THEN 1 ELSE progress END
                WHERE id = $id AND status = 'running'
                """, ("$id", id), ("$status", status), ("$now", Rfc3339.Format(now)), ("$error", error),
                ("$response", response?.ToJson()), ("$attempts", retryAttempts)) != 1)
                return false;
            events.Add(JobEvents.Append(c, tx, JobEventDraft.Completed(id, status, error, response?.StatusCode), now));
            return true;
        });
    }

    /// <summary>pending → cancelled ("Cancelled"). False when the job was not pending.</summary>
    public bool TryCancelPending(string id)
    {
        var now = Now;
        return Write((c, tx, events) =>
        {
            if (Database.Execute(c, tx, """
                UPDATE jobs SET status = 'cancelled', cancel_requested = 1, completed_at = $now, error = $error
                WHERE id = $id AND status = 'pending'
                """, ("$id", id), ("$now", Rfc3339.Format(now)), ("$error", JobErrors.Cancelled)) != 1)
                return false;
            events.Add(JobEvents.Append(c, tx, JobEventDraft.Completed(id, JobStatus.Cancelled, JobErrors.Cancelled, null), now));
            return true;
        });
    }

    /// <summary>Records a cancel request on a running job. False when the job was not running.</summary>
    public bool MarkCancelRequested(string id) => Write((c, tx, _) =>
    {
        return Database.Execute(c, tx, "UPDATE jobs SET cancel_requested = 1 WHERE id = $id AND status = 'running'", ("$id", id)) == 1;
    });

    /// <summary>Saves a running job's progress and appends its jobprogress event.</summary>
    public bool SetProgress(string id, double progress)
    {
        var now = Now;
        return Write((c, tx, events) =>
        {
            if (Database.Execute(c, tx, "UPDATE jobs SET progress = $p WHERE id = $id AND status = 'running'", ("$id", id), ("$p", progress)) != 1)
                return false;
            events.Add(JobEvents.Append(c, tx, JobEventDraft.Progress(id, progress), now));
            return true;
        });
    }

    /// <summary>
    /// running → pending again (an idempotent job interrupted by shutdown, with --requeue-interrupted).
    /// False when the job was not running.
    /// </summary>
    public bool TryRequeue(string id) => Write((c, tx, _) => Requeue(c, tx, id));

    /// <summary>
    /// Start-up recovery after a crash or restart: every job still `running` belonged to a dead
    /// process. It becomes `cancelled` if a cancel was requested, `pending` again when
    /// <paramref name="requeueIdempotent"/> and its method is idempotent, else `failed` with
    /// "interrupted by restart". Returns what happened and the pending jobs to queue, oldest first.
    /// </summary>
    public RecoveryOutcome Recover(bool requeueIdempotent)
    {
        var now = Now;
        return Write((c, tx, events) =>
        {
            var running = new List<(string Id, string Method, bool CancelRequested)>();
            using (var select = c.CreateCommand())
            {
                select.Transaction = tx;
                select.CommandText = "SELECT id, method, cancel_requested FROM jobs WHERE status = 'running' ORDER BY seq";
                using var reader = select.ExecuteReader();
                while (reader.Read()) running.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2) != 0));
            }
            var failed = new List<string>();
            var requeued = new List<string>();
            var cancelled = new List<string>();
            foreach (var (id, method, cancelRequested) in running)
            {
                if (cancelRequested)
                {
                    Terminate(c, tx, events, id, JobStatus.Cancelled, JobErrors.Cancelled, now);
                    cancelled.Add(id);
                }
                else if (requeueIdempotent && IsIdempotent(method))
                {
                    Requeue(c, tx, id);
                    requeued.Add(id);
                }
                else
                {
                    Terminate(c, tx, events, id, JobStatus.Failed, JobErrors.InterruptedByRestart, now);
                    failed.Add(id);
                }
            }
            var pending = new List<string>();
            using (var select = c.CreateCommand())
            {
                select.Transaction = tx;
                select.CommandText = "SELECT id FROM jobs WHERE status = 'pending' ORDER BY seq";
                using var reader = select.ExecuteReader();
                while (reader.Read()) pending.Add(reader.GetString(0));
            }
            return new RecoveryOutcome(failed, requeued, cancelled, pending);
        });
    }

    /// <summary>Deletes finished jobs (and their events) completed before <paramref name="cutoff"/>; returns their ids.</summary>
    public IReadOnlyList<string> DeleteFinishedBefore(DateTimeOffset cutoff) => Write((c, tx, _) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            DELETE FROM jobs WHERE completed_at IS NOT NULL AND completed_at < $cutoff
              AND status IN ('completed', 'failed', 'cancelled')
            RETURNING id
            """;
        command.Parameters.AddWithValue("$cutoff", Rfc3339.Format(cutoff));
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read()) ids.Add(reader.GetString(0));
        return (IReadOnlyList<string>)ids;
    });

    /// <summary>Every job id (start-up sweep of stray folders).</summary>
    public HashSet<string> AllIds()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM jobs";
        using var reader = command.ExecuteReader();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read()) ids.Add(reader.GetString(0));
        return ids;
    }

    public bool Exists(string id)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM jobs WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteScalar() is not null;
    }

    public static bool IsIdempotent(string method) =>
        method.ToUpperInvariant() is "GET" or "HEAD" or "PUT" or "DELETE" or "OPTIONS";

    private static bool Requeue(SqliteConnection c, SqliteTransaction tx, string id)
    {
        return Database.Execute(c, tx, """
            UPDATE jobs SET status = 'pending', started_at = NULL, progress = 0, retry_attempts = 0
            WHERE id = $id AND status = 'running'
            """, ("$id", id)) == 1;
    }

    private static void Terminate(SqliteConnection c, SqliteTransaction tx, List<JobEvent> events, string id, string status, string error, DateTimeOffset now)
    {
        using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "UPDATE jobs SET status = $status, completed_at = $now, error = $error WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$status", status);
        command.Parameters.AddWithValue("$now", Rfc3339.Format(now));
        command.Parameters.AddWithValue("$error", error);
        command.ExecuteNonQuery();
        events.Add(JobEvents.Append(c, tx, JobEventDraft.Completed(id, status, error, null), now));
    }

    private T Write<T>(Func<SqliteConnection, SqliteTransaction, List<JobEvent>, T> work)
    {
        lock (_writeGate)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(); // IMMEDIATE: take the write lock up front
            var events = new List<JobEvent>(1);
            var result = work(connection, transaction, events);
            transaction.Commit();
            foreach (var e in events) _events.Publish(e);
            return result;
        }
    }

    private static JobRecord? Get(SqliteConnection connection, SqliteTransaction? transaction, string id)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {Columns} FROM jobs WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadJob(reader) : null;
    }

    private static JobRecord ReadJob(SqliteDataReader r)
    {
        CurlRequest request;
        try
        {
            request = CurlRequestJson.ReadStored(r.GetString(11));
        }
        catch (Exception e) when (e is JsonException or ApiErrorException)
        {
            // A stored request that no longer parses is a storage fault, never the caller's 400.
            throw new InvalidDataException($"job {r.GetString(0)}: stored request is unreadable: {e.Message}", e);
        }
        return new JobRecord
        {
            Id = r.GetString(0),
            Name = NullableString(r, 1),
            SessionId = NullableString(r, 2),
            Status = r.GetString(3),
            Method = r.GetString(4),
            Url = r.GetString(5),
            CreatedAt = Time(r.GetString(6)),
            StartedAt = NullableTime(r, 7),
            CompletedAt = NullableTime(r, 8),
            Error = NullableString(r, 9),
            RetryAttempts = r.GetInt32(10),
            Request = request,
            Response = r.IsDBNull(12) ? null : StoredResponse.FromJson(r.GetString(12)),
            Progress = r.GetDouble(13),
            CancelRequested = r.GetInt64(14) != 0,
            OriginalJobId = NullableString(r, 15),
            ScheduleId = NullableString(r, 16),
        };
    }

    private static string? NullableString(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static DateTimeOffset Time(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static DateTimeOffset? NullableTime(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Time(r.GetString(i));
}

/// <summary>What start-up recovery did, and the pending jobs to queue (oldest first).</summary>
internal sealed record RecoveryOutcome(
    IReadOnlyList<string> Failed, IReadOnlyList<string> Requeued, IReadOnlyList<string> Cancelled, IReadOnlyList<string> Pending);
