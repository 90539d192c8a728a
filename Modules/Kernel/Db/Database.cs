// The one SQLite database every module keeps its tables in: <storage-dir>/hoody-curl.db.
//
// Connection per operation: `Open()` hands out a fresh SqliteConnection (Microsoft.Data.Sqlite pools
// the native handles underneath), so any thread may use the database without sharing a connection.
// WAL lets readers run beside the one writer; writers wait for each other through busy_timeout and
// should use `BeginTransaction()` (IMMEDIATE), so a read snapshot is never upgraded into SQLITE_BUSY.
// synchronous=FULL makes every commit durable before it returns: a job marked completed stays so.
//
// Native AOT: the provider P/Invokes "sqlite3"; the host links Debian's libsqlite3.a statically
// (DirectPInvoke + NativeLibrary), tests and JIT runs load the system libsqlite3.so.
using Microsoft.Data.Sqlite;

namespace HoodyCurl.Kernel.Db;

public sealed class Database
{
    /// <summary>The database file's name inside the storage directory.</summary>
    public const string FileName = "hoody-curl.db";

    /// <summary>How long a connection waits for another writer before SQLITE_BUSY, in milliseconds.</summary>
    public const int BusyTimeoutMs = 10_000;

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static readonly Lock ProviderGate = new();
    private static bool _providerSet;

    private readonly string _connectionString;
    private readonly Lock _migrationGate = new();

    /// <summary>
    /// Opens (creating if needed) <paramref name="storageDir"/>/hoody-curl.db with mode 0600, and
    /// switches it to WAL. The storage directory is created with mode 0700 when missing.
    /// </summary>
    public Database(string storageDir)
    {
        EnsureProvider();
        StorageDir = Path.GetFullPath(storageDir);
        if (!Directory.Exists(StorageDir))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(StorageDir);
            else Directory.CreateDirectory(StorageDir, OwnerOnlyDirectory);
        }
        FilePath = Path.Combine(StorageDir, FileName);
        CreateOwnerOnly(FilePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();

        using var connection = Open();
        using var command = connection.CreateCommand();
        // journal_mode is stored in the file; the WAL and -shm files inherit the database file's mode.
        command.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"SQLite refused WAL mode for {FilePath} (got '{mode}')");
        // The migrations' own table, created here rather than at the first Migrate: on a fresh storage dir this is the
        // first write to the new WAL, whose header SQLite syncs (with the directory) even at synchronous=NORMAL. The host
        // opens the database beside libcurl's load, so those two waits now overlap the load instead of the modules'
        // start (perf sched trace of a fresh start, issue 13). NORMAL as in Migrate; the pooled connection gets FULL
        // back from Open() on its next use.
        command.CommandText = "PRAGMA synchronous=NORMAL;" + CreateMigrationsTable;
        command.ExecuteNonQuery();
    }

    private const string CreateMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            module     TEXT    NOT NULL,
            version    INTEGER NOT NULL,
            applied_at TEXT    NOT NULL,
            PRIMARY KEY (module, version)
        ) WITHOUT ROWID;
        """;

    /// <summary>The absolute storage directory the database lives in (modules keep their files here too).</summary>
    public string StorageDir { get; }

    /// <summary>The absolute path of the database file.</summary>
    public string FilePath { get; }

    /// <summary>
    /// Opens a connection with the per-connection settings applied (synchronous=FULL, busy_timeout,
    /// foreign keys). Dispose it when the operation is done; it goes back to the pool.
    /// </summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA foreign_keys=ON;";
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Applies <paramref name="migrations"/> of <paramref name="module"/> that are not applied yet.
    /// Migration i (0-based) is version i+1; each runs in its own IMMEDIATE transaction together with
    /// its row in schema_migrations, so a crash leaves either the whole migration or none of it.
    /// Safe to call again and from several threads or processes: applied versions are skipped.
    /// Never edit a shipped migration; append a new one.
    /// </summary>
    public void Migrate(string module, IReadOnlyList<string> migrations)
    {
        ArgumentException.ThrowIfNullOrEmpty(module);
        lock (_migrationGate)
        {
            using var connection = Open();
            // A migration's commit is not synced on its own (synchronous=NORMAL: WAL commits stay atomic and
            // ordered, only their durability waits for the next FULL commit or checkpoint). A migration lost to a
            // power cut is lost with its schema_migrations row and simply runs again at the next start. A fresh
            // storage dir ran 8 fdatasyncs here, 0.3-0.9 ms each on this VM's disk (strace -T); without them the port
            // is served ~11 ms sooner under strace (bench/RESULTS.md, issue 13 fourth session). The pooled connection
            // gets FULL back from Open() on its next use.
            using (var normal = connection.CreateCommand())
            {
                normal.CommandText = "PRAGMA synchronous=NORMAL";
                normal.ExecuteNonQuery();
            }
            using (var create = connection.CreateCommand())
            {
                create.CommandText = CreateMigrationsTable; // a no-op unless the constructor's unsynced create was lost to a power cut
                create.ExecuteNonQuery();
            }
            for (var i = 0; i < migrations.Count; i++)
            {
                var version = i + 1;
                using var transaction = connection.BeginTransaction();
                using (var check = connection.CreateCommand())
                {
                    check.Transaction = transaction;
                    check.CommandText = "SELECT 1 FROM schema_migrations WHERE module = $m AND version = $v";
                    check.Parameters.AddWithValue("$m", module);
                    check.Parameters.AddWithValue("$v", version);
                    if (check.ExecuteScalar() is not null) { transaction.Rollback(); continue; }
                }
                using (var apply = connection.CreateCommand())
                {
                    apply.Transaction = transaction;
                    apply.CommandText = migrations[i];
                    apply.ExecuteNonQuery();
                }
                using (var record = connection.CreateCommand())
                {
                    record.Transaction = transaction;
                    record.CommandText = "INSERT INTO schema_migrations (module, version, applied_at) VALUES ($m, $v, $t)";
                    record.Parameters.AddWithValue("$m", module);
                    record.Parameters.AddWithValue("$v", version);
                    record.Parameters.AddWithValue("$t", Time.Rfc3339.Format(DateTimeOffset.UtcNow));
                    record.ExecuteNonQuery();
                }
                transaction.Commit();
            }
        }
    }

    /// <summary>The highest applied migration version of <paramref name="module"/> (0 when none).</summary>
    public int SchemaVersion(string module)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE module = $m
            """;
        command.Parameters.AddWithValue("$m", module);
        try
        {
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 1) // no such table: nothing migrated yet
        {
            return 0;
        }
    }

    /// <summary>Runs PRAGMA integrity_check; "ok" when the file is sound, else SQLite's findings.</summary>
    public string IntegrityCheck()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read()) lines.Add(reader.GetString(0));
        return string.Join('\n', lines);
    }

    /// <summary>
    /// One page of <paramref name="table"/>, newest first by its <c>seq</c> column (docs/api.md D16), and the table's
    /// row count, read in one snapshot. <paramref name="limit"/> null = every row.
    /// </summary>
    public (List<T> Items, long Total) NewestFirst<T>(string table, string columns, int page, int? limit, Func<SqliteDataReader, T> read)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: true); // one snapshot for count + page
        using var count = connection.CreateCommand();
        count.Transaction = transaction;
        count.CommandText = $"SELECT count(*) FROM {table}";
        var total = (long)count.ExecuteScalar()!;
        using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = $"SELECT {columns} FROM {table} ORDER BY seq DESC LIMIT $limit OFFSET $offset";
        var size = limit ?? int.MaxValue;
        select.Parameters.AddWithValue("$limit", (long)size);
        select.Parameters.AddWithValue("$offset", (long)(page - 1) * size);
        var items = new List<T>();
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read()) items.Add(read(reader));
        }
        transaction.Commit();
        return (items, total);
    }

    /// <summary>
    /// Runs one statement with named parameters (null is bound as SQL NULL) inside <paramref name="transaction"/>
    /// when given, and returns the number of rows it changed. The one execute helper every store uses.
    /// </summary>
    public static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command.ExecuteNonQuery();
    }

    /// <summary>Closes the pooled native handles (tests that delete the folder; shutdown).</summary>
    public static void ClearPools() => SqliteConnection.ClearAllPools();

    private static void EnsureProvider()
    {
        lock (ProviderGate)
        {
            if (_providerSet) return;
            SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());
            _providerSet = true;
        }
    }

    private static void CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        if (!File.Exists(path))
        {
            try
            {
                using var _ = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = OwnerOnlyFile,
                });
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another opener won the race; fix its mode below.
            }
        }
        if ((File.GetUnixFileMode(path) & ~OwnerOnlyFile) != 0) File.SetUnixFileMode(path, OwnerOnlyFile);
    }
}
