// The session store: tables `sessions` and `session_tombstones` in the shared SQLite database, and the
// per-session leases that serialise transfers on one jar (docs/api.md D13).
//
// Why a lease and not a merge: libcurl hands back the whole jar after a transfer, and two transfers
// that loaded the same jar would each write back a jar missing the other's new cookies. Holding the
// session from "load the jar" to "store the jar" makes every transfer see its predecessor's cookies,
// so no update is lost. Waiters queue FIFO; waiting is cancellable (sync wait limit, caller gone).
//
// A jar is stored as its Netscape lines in one row, written in one statement: a crash leaves the old
// jar or the new one. Deleting a session removes the row and writes a tombstone in one transaction.
using System.Text.RegularExpressions;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Errors;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Sessions;

internal sealed partial class SessionStore : ISessionStore
{
    public const string Module = "sessions";

    /// <summary>Numbered migrations of the sessions module; append only, never edit a shipped one.</summary>
    public static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE sessions (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            id         TEXT    NOT NULL UNIQUE,
            created_ms INTEGER NOT NULL,
            used_ms    INTEGER NOT NULL,
            cookies    TEXT    NOT NULL DEFAULT ''
        );
        CREATE TABLE session_tombstones (
            id         TEXT    PRIMARY KEY,
            deleted_ms INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX session_tombstones_by_expiry ON session_tombstones (expires_ms);
        """,
    ];

    private readonly Database _database;
    private readonly SessionsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly SessionMetrics? _metrics;
    private readonly Dictionary<string, Gate> _gates = new(StringComparer.Ordinal);
    private readonly Lock _gatesLock = new();

    public SessionStore(Database database, SessionsOptions options, TimeProvider time, ILogger log, SessionMetrics? metrics = null)
    {
        _database = database;
        _options = options;
        _time = time;
        _log = log;
        _metrics = metrics;
        database.Migrate(Module, Migrations);
        PurgeTombstones();
    }

    [GeneratedRegex("^[A-Za-z0-9._:@-]{1,128}$")]
    private static partial Regex IdPattern();

    /// <summary>Session ids of docs/api.md D13: 1 to 128 of A-Z a-z 0-9 . _ : @ -.</summary>
    public static bool IsValidId(string id) => IdPattern().IsMatch(id) && id is not ("." or "..");

    public static ApiError InvalidId() =>
        ApiError.Validation("session id must be 1 to 128 characters of A-Z a-z 0-9 . _ : @ -, and not '.' or '..'");

    public static ApiError Tombstoned(string id) => ApiError.NotFound(ErrorCodes.SessionNotFound, $"Session not found: {id} (tombstoned)");

    /// <summary>--max-sessions reached: a new session id is refused; existing sessions keep working.</summary>
    public ApiError TooMany() => new(503, ErrorCodes.TooManySessions,
        $"too many sessions ({_options.MaxSessions}, --max-sessions); delete unused sessions (DELETE /api/v1/curl/sessions/{{id}}) or reuse one");

    public static ApiError NotFound(string id) => ApiError.NotFound(ErrorCodes.SessionNotFound, $"Session not found: {id}");

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    // ---- the lease (ISessionStore) ---------------------------------------------------------------

    public ApiError? CheckUsable(string sessionId)
    {
        if (!IsValidId(sessionId)) return InvalidId();
        using var connection = _database.Open();
        return IsTombstoned(connection, null, sessionId, NowMs) ? Tombstoned(sessionId) : null;
    }

    public async Task<ISessionLease> AcquireAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (CheckUsable(sessionId) is { } refused) throw new ApiErrorException(refused); // fail fast, before queueing
        var gate = Enter(sessionId);
        var started = _time.GetTimestamp();
        try
        {
            await gate.Semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Leave(sessionId, gate);
            throw;
        }
        try
        {
            _metrics?.LeaseWait.Observe(_time.GetElapsedTime(started).TotalSeconds);
            var cookies = OpenOrCreate(sessionId);
            _metrics?.LeasesHeld.Inc();
            return new Lease(this, sessionId, gate, cookies);
        }
        catch
        {
            gate.Semaphore.Release();
            Leave(sessionId, gate);
            throw;
        }
    }

    /// <summary>The gate of a session, counted so the map holds only sessions someone holds or waits for.</summary>
    private Gate Enter(string sessionId)
    {
        lock (_gatesLock)
        {
            if (!_gates.TryGetValue(sessionId, out var gate)) _gates[sessionId] = gate = new Gate();
            gate.Users++;
            return gate;
        }
    }

    private void Leave(string sessionId, Gate gate)
    {
        lock (_gatesLock)
        {
            if (--gate.Users == 0) _gates.Remove(sessionId);
        }
    }

    /// <summary>Sessions someone holds or waits for (tests, metrics).</summary>
    internal int GateCount
    {
        get { lock (_gatesLock) return _gates.Count; }
    }

    /// <summary>Reads the jar; creates the session when missing, unless it is tombstoned (404).</summary>
    private IReadOnlyList<string> OpenOrCreate(string sessionId)
    {
        var now = NowMs;
        using var connection = _database.Open();
        if (ReadCookies(connection, null, sessionId) is { } existing) return Live(existing, now);
        using var transaction = connection.BeginTransaction();
        if (ReadCookies(connection, transaction, sessionId) is { } raced) return Live(raced, now);
        if (IsTombstoned(connection, transaction, sessionId, now)) throw new ApiErrorException(Tombstoned(sessionId));
        using (var count = connection.CreateCommand())
        {
            count.Transaction = transaction;
            count.CommandText = "SELECT COUNT(*) FROM sessions";
            if ((long)count.ExecuteScalar()! >= _options.MaxSessions) throw new ApiErrorException(TooMany());
        }
        Database.Execute(connection, transaction, "DELETE FROM session_tombstones WHERE id = $id", ("$id", sessionId));
        Database.Execute(connection, transaction, "INSERT INTO sessions (id, created_ms, used_ms, cookies) VALUES ($id, $now, $now, '')",
            ("$id", sessionId), ("$now", now));
        transaction.Commit();
        Log.SessionCreated(_log, sessionId);
        return [];
    }

    private IReadOnlyList<string> Live(string stored, long nowMs) =>
        [.. CookieJar.Normalize(SplitLines(stored), nowMs / 1000, int.MaxValue, out _).Select(CookieJar.Format)];

    private void Persist(string sessionId, IReadOnlyList<string> loaded, IReadOnlyList<string> cookieLines)
    {
        var now = NowMs;
        var jar = CookieJar.Normalize(cookieLines, now / 1000, _options.MaxCookies, out var dropped);
        if (dropped > 0) Log.JarTrimmed(_log, sessionId, dropped);
        var lines = jar.Select(CookieJar.Format).ToList();
        if (lines.SequenceEqual(loaded, StringComparer.Ordinal)) return; // unchanged: no write, last_used stays
        using var connection = _database.Open();
        Database.Execute(connection, null, "UPDATE sessions SET cookies = $cookies, used_ms = $now WHERE id = $id",
            ("$id", sessionId), ("$cookies", string.Join('\n', lines)), ("$now", now));
        Log.JarStored(_log, sessionId, lines.Count);
    }

    // ---- the API's reads and the delete ----------------------------------------------------------

    /// <summary>
    /// The total and the page's sessions read lazily, 100 rows per query (keyset on seq), so a caller that
    /// writes each one as it comes holds one batch, never the whole list (issue 16 item 6).
    /// </summary>
    public (long Total, IEnumerable<SessionRecord> Items) ListLazily(int page, int? limit)
    {
        long total;
        using (var connection = _database.Open())
        using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT COUNT(*) FROM sessions";
            total = (long)count.ExecuteScalar()!;
        }
        return (total, Batches(limit is null ? 0L : (long)(page - 1) * limit.Value, limit ?? long.MaxValue));
    }

    private IEnumerable<SessionRecord> Batches(long offset, long wanted)
    {
        const int batch = 100;
        long afterSeq = -1, sent = 0;
        var first = true;
        while (sent < wanted)
        {
            var rows = new List<(long Seq, SessionRecord Record)>(batch);
            using (var connection = _database.Open())
            using (var select = connection.CreateCommand())
            {
                // The first query skips the page's offset; the next ones continue after the last seq seen.
                select.CommandText = first
                    ? "SELECT id, created_ms, used_ms, cookies, seq FROM sessions ORDER BY seq LIMIT $limit OFFSET $offset"
                    : "SELECT id, created_ms, used_ms, cookies, seq FROM sessions WHERE seq > $after ORDER BY seq LIMIT $limit";
                select.Parameters.AddWithValue("$limit", Math.Min(batch, wanted - sent));
                select.Parameters.AddWithValue("$offset", offset);
                select.Parameters.AddWithValue("$after", afterSeq);
                using var reader = select.ExecuteReader();
                var now = NowMs;
                while (reader.Read()) rows.Add((reader.GetInt64(4), Record(reader, now)));
            }
            first = false;
            foreach (var (seq, record) in rows)
            {
                afterSeq = seq;
                sent++;
                yield return record;
            }
            if (rows.Count < batch) yield break;
        }
    }

    public SessionPage List(int page, int? limit)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction(deferred: true); // one snapshot for count + page
        long total;
        using (var count = connection.CreateCommand())
        {
            count.Transaction = transaction;
            count.CommandText = "SELECT COUNT(*) FROM sessions";
            total = (long)count.ExecuteScalar()!;
        }
        var items = new List<SessionRecord>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id, created_ms, used_ms, cookies FROM sessions ORDER BY seq LIMIT $limit OFFSET $offset";
            var size = limit ?? int.MaxValue;
            select.Parameters.AddWithValue("$limit", (long)size);
            select.Parameters.AddWithValue("$offset", limit is null ? 0L : (long)(page - 1) * size);
            using var reader = select.ExecuteReader();
            var now = NowMs;
            while (reader.Read()) items.Add(Record(reader, now));
        }
        return new SessionPage(items, total);
    }

    /// <summary>The session, or null with <paramref name="tombstoned"/> telling which 404 to answer.</summary>
    public SessionRecord? Get(string sessionId, out bool tombstoned)
    {
        tombstoned = false;
        using var connection = _database.Open();
        using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT id, created_ms, used_ms, cookies FROM sessions WHERE id = $id";
            select.Parameters.AddWithValue("$id", sessionId);
            using var reader = select.ExecuteReader();
            if (reader.Read()) return Record(reader, NowMs);
        }
        tombstoned = IsTombstoned(connection, null, sessionId, NowMs);
        return null;
    }

    public DeleteOutcome Delete(string sessionId)
    {
        var now = NowMs;
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        var removed = Database.Execute(connection, transaction, "DELETE FROM sessions WHERE id = $id", ("$id", sessionId));
        if (removed == 0)
        {
            var tombstoned = IsTombstoned(connection, transaction, sessionId, now);
            transaction.Rollback();
            return tombstoned ? DeleteOutcome.Tombstoned : DeleteOutcome.NotFound;
        }
        if (_options.TombstoneSecs > 0)
        {
            Database.Execute(connection, transaction,
                "INSERT OR REPLACE INTO session_tombstones (id, deleted_ms, expires_ms) VALUES ($id, $now, $expires)",
                ("$id", sessionId), ("$now", now), ("$expires", now + _options.TombstoneSecs * 1000L));
        }
        Database.Execute(connection, transaction, "DELETE FROM session_tombstones WHERE expires_ms <= $now", ("$now", now));
        transaction.Commit();
        Log.SessionDeleted(_log, sessionId, _options.TombstoneSecs);
        return DeleteOutcome.Deleted;
    }

    /// <summary>
    /// --session-idle-days: removes the sessions whose last use is older than that (no tombstone: the id
    /// may be created again). Sessions held by a request right now are kept. Returns how many went.
    /// </summary>
    public int SweepIdle()
    {
        if (_options.IdleDays <= 0) return 0;
        var cutoff = NowMs - _options.IdleDays * 86_400_000L;
        var idle = new List<string>();
        using var connection = _database.Open();
        using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT id FROM sessions WHERE used_ms < $cutoff";
            select.Parameters.AddWithValue("$cutoff", cutoff);
            using var reader = select.ExecuteReader();
            while (reader.Read()) idle.Add(reader.GetString(0));
        }
        var removed = 0;
        foreach (var id in idle)
        {
            lock (_gatesLock)
                if (_gates.ContainsKey(id)) continue;
            removed += Database.Execute(connection, null, "DELETE FROM sessions WHERE id = $id AND used_ms < $cutoff", ("$id", id), ("$cutoff", cutoff));
        }
        if (removed > 0) Log.IdleSwept(_log, removed, _options.IdleDays);
        return removed;
    }

    /// <summary>Removes tombstones that have expired (they are ignored anyway; this keeps the table small).</summary>
    public int PurgeTombstones()
    {
        using var connection = _database.Open();
        var removed = Database.Execute(connection, null, "DELETE FROM session_tombstones WHERE expires_ms <= $now", ("$now", NowMs));
        if (removed > 0) Log.TombstonesPurged(_log, removed);
        return removed;
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static SessionRecord Record(SqliteDataReader reader, long nowMs) => new(
        reader.GetString(0),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
        CookieJar.Normalize(SplitLines(reader.GetString(3)), nowMs / 1000, int.MaxValue, out _));

    private static string[] SplitLines(string stored) =>
        stored.Length == 0 ? [] : stored.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string? ReadCookies(SqliteConnection connection, SqliteTransaction? transaction, string sessionId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT cookies FROM sessions WHERE id = $id";
        command.Parameters.AddWithValue("$id", sessionId);
        return command.ExecuteScalar() as string;
    }

    private static bool IsTombstoned(SqliteConnection connection, SqliteTransaction? transaction, string sessionId, long nowMs)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT 1 FROM session_tombstones WHERE id = $id AND expires_ms > $now";
        command.Parameters.AddWithValue("$id", sessionId);
        command.Parameters.AddWithValue("$now", nowMs);
        return command.ExecuteScalar() is not null;
    }

    private sealed class Gate
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);
        public int Users;
    }

    private sealed class Lease(SessionStore store, string sessionId, Gate gate, IReadOnlyList<string> cookies) : ISessionLease
    {
        private int _released;

        public string SessionId => sessionId;

        public IReadOnlyList<string> Cookies => cookies;

        public void Persist(IReadOnlyList<string> cookieLines)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
            try
            {
                store.Persist(sessionId, cookies, cookieLines);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The transfer itself succeeded; its caller has its response. The jar keeps its old cookies.
                Log.JarStoreFailed(store._log, sessionId, e);
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            store._metrics?.LeasesHeld.Dec();
            gate.Semaphore.Release();
            store.Leave(sessionId, gate);
        }
    }
}

internal sealed record SessionRecord(string Id, DateTimeOffset CreatedAt, DateTimeOffset LastUsed, IReadOnlyList<StoredCookie> Cookies);

internal sealed record SessionPage(IReadOnlyList<SessionRecord> Items, long Total);

internal enum DeleteOutcome { Deleted, NotFound, Tombstoned }
