// The schedule store: table `schedules` in the shared SQLite database, with the module's numbered
// migrations. The request is kept as Storage-flavour JSON (secrets kept, docs/api.md D9; the database
// file is mode 0600). Commits are synchronous=FULL like every write of the database.
//
// The scheduler's bookkeeping after a tick (last_run, last_job_id, counters, next_run of every
// schedule that fired) is one transaction however many schedules fired, so 200 schedules firing
// together cost one commit, not 200.
using System.Globalization;
using System.Text;
using System.Text.Json;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Time;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;
using Microsoft.Data.Sqlite;

namespace HoodyCurl.Scheduling;

internal sealed class ScheduleStore
{
    public const string Module = "schedules";

    /// <summary>Numbered migrations of the scheduling module; append only, never edit a shipped one.</summary>
    public static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE schedules (
            seq             INTEGER PRIMARY KEY AUTOINCREMENT,
            id              TEXT    NOT NULL UNIQUE,
            name            TEXT,
            cron            TEXT    NOT NULL,
            timezone        TEXT    NOT NULL,
            enabled         INTEGER NOT NULL,
            skip_if_running INTEGER NOT NULL DEFAULT 0,
            created_at      TEXT    NOT NULL,
            next_run        TEXT,
            last_run        TEXT,
            last_job_id     TEXT,
            run_count       INTEGER NOT NULL DEFAULT 0,
            skipped_count   INTEGER NOT NULL DEFAULT 0,
            request         TEXT    NOT NULL
        );
        """,
    ];


    private const string Columns =
        "id, name, cron, timezone, enabled, skip_if_running, created_at, next_run, last_run, last_job_id, run_count, skipped_count, request";

    private readonly Database _database;
    private readonly Lock _writeGate = new();

    public ScheduleStore(Database database)
    {
        _database = database;
        database.Migrate(Module, Migrations);
    }

    public void Insert(ScheduleRecord s)
    {
        var request = Encoding.UTF8.GetString(CurlRequestJson.ToUtf8(s.Request, CurlRequestJsonFlavor.Storage));
        Write((c, tx) =>
        {
            using var command = c.CreateCommand();
            command.Transaction = tx;
            command.CommandText = """
                INSERT INTO schedules (id, name, cron, timezone, enabled, skip_if_running, created_at, next_run, last_run,
                                       last_job_id, run_count, skipped_count, request)
                VALUES ($id, $name, $cron, $tz, $enabled, $skip, $created, $next, $last, $job, $runs, $skips, $request)
                """;
            command.Parameters.AddWithValue("$id", s.Id);
            command.Parameters.AddWithValue("$name", (object?)s.Name ?? DBNull.Value);
            command.Parameters.AddWithValue("$cron", s.Cron);
            command.Parameters.AddWithValue("$tz", s.TimeZone);
            command.Parameters.AddWithValue("$enabled", s.Enabled ? 1 : 0);
            command.Parameters.AddWithValue("$skip", s.SkipIfRunning ? 1 : 0);
            command.Parameters.AddWithValue("$created", Rfc3339.Format(s.CreatedAt));
            command.Parameters.AddWithValue("$next", TimeOrNull(s.NextRun));
            command.Parameters.AddWithValue("$last", TimeOrNull(s.LastRun));
            command.Parameters.AddWithValue("$job", (object?)s.LastJobId ?? DBNull.Value);
            command.Parameters.AddWithValue("$runs", s.RunCount);
            command.Parameters.AddWithValue("$skips", s.SkippedCount);
            command.Parameters.AddWithValue("$request", request);
            command.ExecuteNonQuery();
            return 0;
        });
    }

    public ScheduleRecord? Get(string id)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM schedules WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    }

    /// <summary>Newest first (by creation order, docs/api.md D16); <paramref name="limit"/> null = all.</summary>
    public SchedulePage List(int page, int? limit)
    {
        var (items, total) = _database.NewestFirst("schedules", Columns, page, limit, Read);
        return new SchedulePage(items, total);
    }

    /// <summary>Every schedule, oldest first (the scheduler's start-up).</summary>
    public IReadOnlyList<ScheduleRecord> All()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM schedules ORDER BY seq";
        using var reader = command.ExecuteReader();
        var items = new List<ScheduleRecord>();
        while (reader.Read()) items.Add(Read(reader));
        return items;
    }

    /// <summary>Sets enabled and next_run; false when there is no such schedule.</summary>
    public bool SetEnabled(string id, bool enabled, DateTimeOffset? nextRun) => Write((c, tx) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "UPDATE schedules SET enabled = $enabled, next_run = $next WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$enabled", enabled ? 1 : 0);
        command.Parameters.AddWithValue("$next", TimeOrNull(nextRun));
        return command.ExecuteNonQuery() == 1;
    });

    public bool Delete(string id) => Write((c, tx) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "DELETE FROM schedules WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteNonQuery() == 1;
    });

    /// <summary>Sets next_run of many schedules in one transaction (start-up planning).</summary>
    public void SetNextRuns(IReadOnlyList<(string Id, DateTimeOffset? NextRun)> plans)
    {
        if (plans.Count == 0) return;
        Write((c, tx) =>
        {
            using var command = c.CreateCommand();
            command.Transaction = tx;
            command.CommandText = "UPDATE schedules SET next_run = $next WHERE id = $id";
            var id = command.Parameters.Add("$id", SqliteType.Text);
            var next = command.Parameters.Add("$next", SqliteType.Text);
            foreach (var plan in plans)
            {
                id.Value = plan.Id;
                next.Value = TimeOrNull(plan.NextRun);
                command.ExecuteNonQuery();
            }
            return 0;
        });
    }

    /// <summary>
    /// Records the outcome of a tick's firings in one transaction. A firing of a schedule deleted in
    /// the meantime matches no row and is dropped. next_run is written only when
    /// <see cref="FiringRecord.NextRun"/> applies and the schedule is still enabled.
    /// </summary>
    public void RecordFirings(IReadOnlyList<FiringRecord> firings)
    {
        if (firings.Count == 0) return;
        Write((c, tx) =>
        {
            using var command = c.CreateCommand();
            command.Transaction = tx;
            command.CommandText = """
                UPDATE schedules SET
                    last_run      = COALESCE($last, last_run),
                    last_job_id   = COALESCE($job, last_job_id),
                    run_count     = run_count + $runs,
                    skipped_count = skipped_count + $skips,
                    next_run      = CASE WHEN $plan = 1 AND enabled = 1 THEN $next ELSE next_run END
                WHERE id = $id
                """;
            var id = command.Parameters.Add("$id", SqliteType.Text);
            var last = command.Parameters.Add("$last", SqliteType.Text);
            var job = command.Parameters.Add("$job", SqliteType.Text);
            var runs = command.Parameters.Add("$runs", SqliteType.Integer);
            var skips = command.Parameters.Add("$skips", SqliteType.Integer);
            var plan = command.Parameters.Add("$plan", SqliteType.Integer);
            var next = command.Parameters.Add("$next", SqliteType.Text);
            foreach (var f in firings)
            {
                id.Value = f.ScheduleId;
                last.Value = f.JobId is null ? DBNull.Value : Rfc3339.Format(f.FiredAt);
                job.Value = (object?)f.JobId ?? DBNull.Value;
                runs.Value = f.JobId is null ? 0 : 1;
                skips.Value = f.JobId is null ? 1 : 0;
                plan.Value = f.PlanNext ? 1 : 0;
                next.Value = TimeOrNull(f.NextRun);
                command.ExecuteNonQuery();
            }
            return 0;
        });
    }

    private T Write<T>(Func<SqliteConnection, SqliteTransaction, T> work)
    {
        lock (_writeGate)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(); // IMMEDIATE: take the write lock up front
            var result = work(connection, transaction);
            transaction.Commit();
            return result;
        }
    }

    private static ScheduleRecord Read(SqliteDataReader r)
    {
        CurlRequest request;
        request = CurlRequestJson.ReadStored(r.GetString(12));
        return new ScheduleRecord
        {
            Id = r.GetString(0),
            Name = r.IsDBNull(1) ? null : r.GetString(1),
            Cron = r.GetString(2),
            TimeZone = r.GetString(3),
            Enabled = r.GetInt64(4) != 0,
            SkipIfRunning = r.GetInt64(5) != 0,
            CreatedAt = Time(r.GetString(6)),
            NextRun = r.IsDBNull(7) ? null : Time(r.GetString(7)),
            LastRun = r.IsDBNull(8) ? null : Time(r.GetString(8)),
            LastJobId = r.IsDBNull(9) ? null : r.GetString(9),
            RunCount = r.GetInt64(10),
            SkippedCount = r.GetInt64(11),
            Request = request,
        };
    }

    private static object TimeOrNull(DateTimeOffset? value) => value is { } v ? Rfc3339.Format(v) : DBNull.Value;

    private static DateTimeOffset Time(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}

/// <summary>One firing's outcome for the store: a job (JobId set) or a skip (JobId null).</summary>
internal sealed record FiringRecord(string ScheduleId, DateTimeOffset FiredAt, string? JobId, bool PlanNext, DateTimeOffset? NextRun);
