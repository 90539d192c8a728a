// The link store: tables `links` and `link_history` in the shared SQLite database, with the module's
// numbered migrations. Every write is one IMMEDIATE transaction committed with synchronous=FULL, so a
// kill -9 at any moment leaves each link with a use count and a history that agree:
//   - an opening claims its use and inserts its history row (status NULL) in one commit, before the
//     request runs, so max_uses holds across concurrent openings and crashes;
//   - the row is completed when the answer is known; rows a crash left open are marked INTERRUPTED at
//     the next start.
// The request is kept as Storage-flavour JSON (secrets kept; the database file is mode 0600).
using System.Globalization;
using System.Text;
using System.Text.Json;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Time;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;
using Microsoft.Data.Sqlite;

namespace HoodyCurl.Links;

internal sealed class LinkStore
{
    public const string Module = "links";

    /// <summary>Numbered migrations of the links module; append only, never edit a shipped one.</summary>
    public static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE links (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            id           TEXT    NOT NULL UNIQUE,
            token_sha256 BLOB    NOT NULL UNIQUE,
            name         TEXT,
            created_at   TEXT    NOT NULL,
            expires_at   TEXT,
            max_uses     INTEGER,
            use_count    INTEGER NOT NULL DEFAULT 0,
            last_used_at TEXT,
            revoked_at   TEXT,
            methods      TEXT    NOT NULL,
            params       TEXT    NOT NULL,
            forward_body INTEGER NOT NULL,
            request      TEXT    NOT NULL
        );
        CREATE TABLE link_history (
            seq           INTEGER PRIMARY KEY AUTOINCREMENT,
            link_id       TEXT    NOT NULL,
            at            TEXT    NOT NULL,
            caller        TEXT,
            method        TEXT    NOT NULL,
            status        INTEGER,
            job_id        TEXT,
            bytes         INTEGER,
            request_bytes INTEGER,
            duration_ms   INTEGER,
            error         TEXT
        );
        CREATE INDEX link_history_by_link ON link_history (link_id, seq);
        """,
    ];


    private const string Columns =
        "id, name, created_at, expires_at, max_uses, use_count, last_used_at, revoked_at, methods, params, forward_body, request";

    private const string HistoryColumns = "seq, at, caller, method, status, job_id, bytes, request_bytes, duration_ms, error";

    public const string Interrupted = "INTERRUPTED";

    private readonly Database _database;
    private readonly Lock _writeGate = new();

    public LinkStore(Database database)
    {
        _database = database;
        database.Migrate(Module, Migrations);
        // Openings a crash cut short: their use stays counted (it was claimed), the entry says why it has no status.
        Write((c, tx) =>
        {
            using var command = c.CreateCommand();
            command.Transaction = tx;
            command.CommandText = "UPDATE link_history SET error = $e WHERE status IS NULL AND error IS NULL";
            command.Parameters.AddWithValue("$e", Interrupted);
            return command.ExecuteNonQuery();
        });
    }

    public void Insert(LinkRecord link, byte[] tokenHash)
    {
        var request = Encoding.UTF8.GetString(CurlRequestJson.ToUtf8(link.Request, CurlRequestJsonFlavor.Storage));
        Write((c, tx) =>
        {
            using var command = c.CreateCommand();
            command.Transaction = tx;
            command.CommandText = """
                INSERT INTO links (id, token_sha256, name, created_at, expires_at, max_uses, use_count, methods, params, forward_body, request)
                VALUES ($id, $hash, $name, $created, $expires, $max, 0, $methods, $params, $forward, $request)
                """;
            command.Parameters.AddWithValue("$id", link.Id);
            command.Parameters.AddWithValue("$hash", tokenHash);
            command.Parameters.AddWithValue("$name", (object?)link.Name ?? DBNull.Value);
            command.Parameters.AddWithValue("$created", Rfc3339.Format(link.CreatedAt));
            command.Parameters.AddWithValue("$expires", TimeOrNull(link.ExpiresAt));
            command.Parameters.AddWithValue("$max", (object?)link.MaxUses ?? DBNull.Value);
            command.Parameters.AddWithValue("$methods", string.Join(',', link.Methods));
            command.Parameters.AddWithValue("$params", ParamsJson(link.Params));
            command.Parameters.AddWithValue("$forward", link.ForwardBody ? 1 : 0);
            command.Parameters.AddWithValue("$request", request);
            command.ExecuteNonQuery();
            return 0;
        });
    }

    /// <summary>
    /// The unrevoked link whose stored hash is the SHA-256 of <paramref name="token"/>, after a constant-time
    /// comparison of the stored hash with the presented token's; null otherwise.
    /// </summary>
    public LinkRecord? FindByToken(string token)
    {
        var hash = LinkToken.Hash(token);
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns}, token_sha256 FROM links WHERE token_sha256 = $hash AND revoked_at IS NULL";
        command.Parameters.AddWithValue("$hash", hash);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        var stored = (byte[])reader.GetValue(12);
        return LinkToken.Matches(stored, token) ? Read(reader) : null;
    }

    public LinkRecord? Get(string id)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM links WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    }

    /// <summary>Newest first (creation order, docs/api.md D16); <paramref name="limit"/> null = all.</summary>
    public LinkPage List(int page, int? limit)
    {
        var (items, total) = _database.NewestFirst("links", Columns, page, limit, Read);
        return new LinkPage(items, total);
    }

    /// <summary>Marks the link revoked (keeping the first revocation time); false when there is no such link.</summary>
    public bool Revoke(string id, DateTimeOffset now) => Write((c, tx) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "UPDATE links SET revoked_at = COALESCE(revoked_at, $now) WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$now", Rfc3339.Format(now));
        return command.ExecuteNonQuery() == 1;
    });

    /// <summary>
    /// Claims one use of the link at <paramref name="now"/> and opens its history entry, in one commit.
    /// Returns the entry id, or null when the link is revoked, expired or used up by now (the caller
    /// re-reads it to tell which). Entries beyond <paramref name="historyMax"/> are dropped, oldest first.
    /// </summary>
    public long? Claim(string id, DateTimeOffset now, string? caller, string method, int historyMax) => Write<long?>((c, tx) =>
    {
        var at = Rfc3339.Format(now);
        using (var update = c.CreateCommand())
        {
            update.Transaction = tx;
            update.CommandText = """
                UPDATE links SET use_count = use_count + 1, last_used_at = $now
                WHERE id = $id AND revoked_at IS NULL
                  AND (max_uses IS NULL OR use_count < max_uses)
                  AND (expires_at IS NULL OR expires_at > $now)
                """;
            update.Parameters.AddWithValue("$id", id);
            update.Parameters.AddWithValue("$now", at);
            if (update.ExecuteNonQuery() != 1) return null;
        }
        long seq;
        using (var insert = c.CreateCommand())
        {
            insert.Transaction = tx;
            insert.CommandText = """
                INSERT INTO link_history (link_id, at, caller, method) VALUES ($id, $at, $caller, $method);
                SELECT last_insert_rowid();
                """;
            insert.Parameters.AddWithValue("$id", id);
            insert.Parameters.AddWithValue("$at", at);
            insert.Parameters.AddWithValue("$caller", (object?)caller ?? DBNull.Value);
            insert.Parameters.AddWithValue("$method", method);
            seq = (long)insert.ExecuteScalar()!;
        }
        using (var trim = c.CreateCommand())
        {
            trim.Transaction = tx;
            trim.CommandText = """
                DELETE FROM link_history WHERE link_id = $id AND seq <=
                    (SELECT seq FROM link_history WHERE link_id = $id ORDER BY seq DESC LIMIT 1 OFFSET $keep)
                """;
            trim.Parameters.AddWithValue("$id", id);
            trim.Parameters.AddWithValue("$keep", (long)historyMax);
            trim.ExecuteNonQuery();
        }
        return seq;
    });

    /// <summary>Completes a history entry with the opening's outcome.</summary>
    public void Finish(long seq, int status, string? jobId, long bytes, long? requestBytes, long durationMs, string? error) => Write((c, tx) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            UPDATE link_history SET status = $status, job_id = $job, bytes = $bytes, request_bytes = $rbytes,
                                    duration_ms = $duration, error = $error
            WHERE seq = $seq
            """;
        command.Parameters.AddWithValue("$seq", seq);
        command.Parameters.AddWithValue("$status", status);
        command.Parameters.AddWithValue("$job", (object?)jobId ?? DBNull.Value);
        command.Parameters.AddWithValue("$bytes", bytes);
        command.Parameters.AddWithValue("$rbytes", (object?)requestBytes ?? DBNull.Value);
        command.Parameters.AddWithValue("$duration", durationMs);
        command.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
        return command.ExecuteNonQuery();
    });

    /// <summary>The link's history entries with id greater than <paramref name="after"/>, oldest first, and how many there are.</summary>
    public LinkHistoryPage History(string id, long after, int? limit)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction(deferred: true);
        using var count = connection.CreateCommand();
        count.Transaction = transaction;
        count.CommandText = "SELECT count(*) FROM link_history WHERE link_id = $id AND seq > $after";
        count.Parameters.AddWithValue("$id", id);
        count.Parameters.AddWithValue("$after", after);
        var total = (long)count.ExecuteScalar()!;
        using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = $"SELECT {HistoryColumns} FROM link_history WHERE link_id = $id AND seq > $after ORDER BY seq LIMIT $limit";
        select.Parameters.AddWithValue("$id", id);
        select.Parameters.AddWithValue("$after", after);
        select.Parameters.AddWithValue("$limit", (long)(limit ?? int.MaxValue));
        var items = new List<LinkHistoryEntry>();
        using (var r = select.ExecuteReader())
        {
            while (r.Read())
            {
                items.Add(new LinkHistoryEntry
                {
                    Id = r.GetInt64(0),
                    At = Time(r.GetString(1)),
                    Caller = r.IsDBNull(2) ? null : r.GetString(2),
                    Method = r.GetString(3),
                    Status = r.IsDBNull(4) ? null : r.GetInt32(4),
                    JobId = r.IsDBNull(5) ? null : r.GetString(5),
                    Bytes = r.IsDBNull(6) ? null : r.GetInt64(6),
                    RequestBytes = r.IsDBNull(7) ? null : r.GetInt64(7),
                    DurationMs = r.IsDBNull(8) ? null : r.GetInt64(8),
                    Error = r.IsDBNull(9) ? null : r.GetString(9),
                });
            }
        }
        transaction.Commit();
        return new LinkHistoryPage(items, total);
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

    internal static string ParamsJson(IReadOnlyList<LinkParam> parameters) =>
        JsonSerializer.Serialize(parameters, LinksJsonContext.Default.IReadOnlyListLinkParam);

    private static IReadOnlyList<LinkParam> ReadParams(string json) =>
        JsonSerializer.Deserialize(json, LinksJsonContext.Default.IReadOnlyListLinkParam)
        ?? throw new InvalidDataException("stored params are null");

    private static LinkRecord Read(SqliteDataReader r)
    {
        CurlRequest request;
        request = CurlRequestJson.ReadStored(r.GetString(11));
        return new LinkRecord
        {
            Id = r.GetString(0),
            Name = r.IsDBNull(1) ? null : r.GetString(1),
            CreatedAt = Time(r.GetString(2)),
            ExpiresAt = r.IsDBNull(3) ? null : Time(r.GetString(3)),
            MaxUses = r.IsDBNull(4) ? null : r.GetInt64(4),
            UseCount = r.GetInt64(5),
            LastUsedAt = r.IsDBNull(6) ? null : Time(r.GetString(6)),
            RevokedAt = r.IsDBNull(7) ? null : Time(r.GetString(7)),
            Methods = r.GetString(8).Split(',', StringSplitOptions.RemoveEmptyEntries),
            Params = ReadParams(r.GetString(9)),
            ForwardBody = r.GetInt64(10) != 0,
            Request = request,
        };
    }

    private static object TimeOrNull(DateTimeOffset? value) => value is { } v ? Rfc3339.Format(v) : DBNull.Value;

    private static DateTimeOffset Time(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
