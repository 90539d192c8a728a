// The storage index: tables `storage_files` and `storage_paths` in the shared SQLite database. It is the
// truth about what is stored: only `ready` files are listed, served or deleted, so a file someone drops
// into downloads/ by hand (or a symlink planted there) is never reachable through the API.
//
// Crash consistency comes from the state column, which brackets every change of the file system:
//   save:   write .partial temp + fsync → row `pending` → rename + links + fsync → row `ready`
//   delete: row `deleting` → unlink the three paths → row removed
// At start-up, `pending` and `deleting` rows are rolled forward to "gone" (their paths unlinked, the rows
// removed) and .partial is emptied; the list is therefore always exactly the set of whole files.
using HoodyCurl.Kernel.Db;
using Microsoft.Data.Sqlite;

namespace HoodyCurl.Storage;

internal sealed record IndexedFile(string Id, string Url, long Size, DateTimeOffset CreatedAt, IReadOnlyList<string> Paths);

internal sealed record IndexEntry(string Path, string Id, string Url, long Size, DateTimeOffset CreatedAt);

internal sealed class StorageIndex
{
    public const string Module = "storage";

    /// <summary>Numbered migrations of the storage module; append only, never edit a shipped one.</summary>
    public static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE storage_files (
            id         TEXT    PRIMARY KEY,
            url        TEXT    NOT NULL,
            size       INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            state      TEXT    NOT NULL CHECK (state IN ('pending','ready','deleting'))
        ) WITHOUT ROWID;
        CREATE TABLE storage_paths (
            path     TEXT    PRIMARY KEY,
            file_id  TEXT    NOT NULL REFERENCES storage_files (id) ON DELETE CASCADE,
            position INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX storage_paths_by_file ON storage_paths (file_id, position);
        """,
    ];

    private readonly Database _database;

    public StorageIndex(Database database)
    {
        _database = database;
        database.Migrate(Module, Migrations);
    }

    public bool Exists(string id)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM storage_files WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteScalar() is not null;
    }

    /// <summary>Records a save about to be linked into place. False when the id or a path is taken.</summary>
    public bool InsertPending(StoragePlan plan, string url, long size, DateTimeOffset createdAt)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        try
        {
            Database.Execute(connection, transaction,
                "INSERT INTO storage_files (id, url, size, created_ms, state) VALUES ($id, $url, $size, $created, 'pending')",
                ("$id", plan.Id), ("$url", url), ("$size", size), ("$created", createdAt.ToUnixTimeMilliseconds()));
            var paths = plan.Paths;
            for (var i = 0; i < paths.Count; i++)
            {
                Database.Execute(connection, transaction, "INSERT INTO storage_paths (path, file_id, position) VALUES ($path, $id, $position)",
                    ("$path", paths[i]), ("$id", plan.Id), ("$position", i));
            }
            transaction.Commit();
            return true;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: id or path exists
        {
            transaction.Rollback();
            return false;
        }
    }

    public void MarkReady(string id) => SetState(id, "ready");

    public void Remove(string id)
    {
        using var connection = _database.Open();
        Database.Execute(connection, null, "DELETE FROM storage_files WHERE id = $id", ("$id", id));
    }

    /// <summary>The ready file stored under <paramref name="id"/>, or null.</summary>
    public IndexedFile? FindReadyById(string id)
    {
        using var connection = _database.Open();
        return Load(connection, null, id, readyOnly: true);
    }

    /// <summary>The ready file one of whose three paths is <paramref name="path"/>.</summary>
    public IndexedFile? FindReady(string path)
    {
        using var connection = _database.Open();
        return Find(connection, null, path);
    }

    /// <summary>Marks the ready file owning <paramref name="path"/> as `deleting` and returns it; null when none.</summary>
    public IndexedFile? BeginDelete(string path)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        var file = Find(connection, transaction, path);
        if (file is null)
        {
            transaction.Rollback();
            return null;
        }
        Database.Execute(connection, transaction, "UPDATE storage_files SET state = 'deleting' WHERE id = $id", ("$id", file.Id));
        transaction.Commit();
        return file;
    }

    /// <summary>Files a crash left `pending` or `deleting`.</summary>
    public List<IndexedFile> Unfinished()
    {
        using var connection = _database.Open();
        var ids = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id FROM storage_files WHERE state <> 'ready'";
            using var reader = command.ExecuteReader();
            while (reader.Read()) ids.Add(reader.GetString(0));
        }
        return [.. ids.Select(id => Load(connection, null, id, readyOnly: false)!)];
    }

    /// <summary>One row per index path of the ready files, by path (docs/api.md D16).</summary>
    public (List<IndexEntry> Items, long Total) List(int page, int? limit)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction(deferred: true); // one snapshot for count + page
        long total;
        using (var count = connection.CreateCommand())
        {
            count.Transaction = transaction;
            count.CommandText = "SELECT COUNT(*) FROM storage_paths p JOIN storage_files f ON f.id = p.file_id WHERE f.state = 'ready'";
            total = (long)count.ExecuteScalar()!;
        }
        var items = new List<IndexEntry>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = """
                SELECT p.path, f.id, f.url, f.size, f.created_ms
                FROM storage_paths p JOIN storage_files f ON f.id = p.file_id
                WHERE f.state = 'ready'
                ORDER BY p.path
                LIMIT $limit OFFSET $offset
                """;
            var size = limit ?? int.MaxValue;
            select.Parameters.AddWithValue("$limit", (long)size);
            select.Parameters.AddWithValue("$offset", limit is null ? 0L : (long)(page - 1) * size);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                items.Add(new IndexEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
            }
        }
        return (items, total);
    }

    /// <summary>
    /// The total and the page's entries read lazily, 100 rows per query (keyset on path), so a caller that
    /// writes each one as it comes holds one batch, never the whole index (issue 16 item 6).
    /// </summary>
    public (long Total, IEnumerable<IndexEntry> Items) ListLazily(int page, int? limit)
    {
        long total;
        using (var connection = _database.Open())
        using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT COUNT(*) FROM storage_paths p JOIN storage_files f ON f.id = p.file_id WHERE f.state = 'ready'";
            total = (long)count.ExecuteScalar()!;
        }
        return (total, EntryBatches(limit is { } l ? (long)(page - 1) * l : 0L, limit ?? long.MaxValue));
    }

    private IEnumerable<IndexEntry> EntryBatches(long offset, long wanted)
    {
        const int batch = 100;
        string? afterPath = null;
        long sent = 0;
        while (sent < wanted)
        {
            var rows = new List<IndexEntry>(batch);
            using (var connection = _database.Open())
            using (var select = connection.CreateCommand())
            {
                // The first query skips the page's offset; the next ones continue after the last path seen.
                select.CommandText = $"""
                    SELECT p.path, f.id, f.url, f.size, f.created_ms
                    FROM storage_paths p JOIN storage_files f ON f.id = p.file_id
                    WHERE f.state = 'ready'{(afterPath is null ? "" : " AND p.path > $after")}
                    ORDER BY p.path
                    LIMIT $limit{(afterPath is null ? " OFFSET $offset" : "")}
                    """;
                select.Parameters.AddWithValue("$limit", Math.Min(batch, wanted - sent));
                if (afterPath is null) select.Parameters.AddWithValue("$offset", offset);
                else select.Parameters.AddWithValue("$after", afterPath);
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    rows.Add(new IndexEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
                }
            }
            foreach (var row in rows)
            {
                afterPath = row.Path;
                sent++;
                yield return row;
            }
            if (rows.Count < batch) yield break;
        }
    }

    private static IndexedFile? Find(SqliteConnection connection, SqliteTransaction? transaction, string path)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT file_id FROM storage_paths WHERE path = $path";
        command.Parameters.AddWithValue("$path", path);
        return command.ExecuteScalar() is string id ? Load(connection, transaction, id, readyOnly: true) : null;
    }

    private static IndexedFile? Load(SqliteConnection connection, SqliteTransaction? transaction, string id, bool readyOnly)
    {
        string url;
        long size, created;
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT url, size, created_ms, state FROM storage_files WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            if (!reader.Read() || (readyOnly && reader.GetString(3) != "ready")) return null;
            url = reader.GetString(0);
            size = reader.GetInt64(1);
            created = reader.GetInt64(2);
        }
        var paths = new List<string>(3);
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT path FROM storage_paths WHERE file_id = $id ORDER BY position";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            while (reader.Read()) paths.Add(reader.GetString(0));
        }
        return new IndexedFile(id, url, size, DateTimeOffset.FromUnixTimeMilliseconds(created), paths);
    }

    private void SetState(string id, string state)
    {
        using var connection = _database.Open();
        Database.Execute(connection, null, "UPDATE storage_files SET state = $state WHERE id = $id", ("$id", id), ("$state", state));
    }
}
