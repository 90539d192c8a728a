// Kernel Db: the shared SQLite file (WAL, owner-only mode, migrations) and durable files.
using HoodyCurl.Jobs.Tests.Support;
using HoodyCurl.Kernel.Db;
using Microsoft.Data.Sqlite;

namespace HoodyCurl.Jobs.Tests.Db;

public class DatabaseTests
{
    private static readonly string[] TwoMigrations =
    [
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
        "ALTER TABLE t ADD COLUMN w INTEGER NOT NULL DEFAULT 7; CREATE INDEX t_by_v ON t (v);",
    ];

    [Test]
    public async Task Opens_in_wal_mode_with_owner_only_files()
    {
        using var dir = new TempDir();
        var db = new Database(dir.Path);
        using (var c = db.Open())
        {
            using var command = c.CreateCommand();
            command.CommandText = "PRAGMA journal_mode; ";
            await Assert.That(command.ExecuteScalar() as string).IsEqualTo("wal");
            command.CommandText = "PRAGMA synchronous";
            await Assert.That(Convert.ToInt32(command.ExecuteScalar())).IsEqualTo(2); // FULL
            command.CommandText = "PRAGMA foreign_keys";
            await Assert.That(Convert.ToInt32(command.ExecuteScalar())).IsEqualTo(1);
            command.CommandText = "PRAGMA busy_timeout";
            await Assert.That(Convert.ToInt32(command.ExecuteScalar())).IsEqualTo(Database.BusyTimeoutMs);
            command.CommandText = "CREATE TABLE x (a); INSERT INTO x VALUES (1);";
            command.ExecuteNonQuery();
        }
        await Assert.That(db.FilePath).IsEqualTo(Path.Combine(dir.Path, "hoody-curl.db"));
        await Assert.That(File.GetUnixFileMode(db.FilePath)).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await Assert.That(File.GetUnixFileMode(db.FilePath + "-wal")).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Test]
    public async Task Existing_file_with_loose_mode_is_tightened()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, Database.FileName);
        File.WriteAllBytes(path, []);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        _ = new Database(dir.Path);
        await Assert.That(File.GetUnixFileMode(path)).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Test]
    public async Task Migrations_apply_once_and_are_idempotent()
    {
        using var dir = new TempDir();
        var db = new Database(dir.Path);
        db.Migrate("m", TwoMigrations[..1]);
        await Assert.That(db.SchemaVersion("m")).IsEqualTo(1);
        db.Migrate("m", TwoMigrations);
        db.Migrate("m", TwoMigrations);
        await Assert.That(db.SchemaVersion("m")).IsEqualTo(2);
        await Assert.That(db.SchemaVersion("other")).IsEqualTo(0);

        // A second process (another Database on the same file) sees the same versions and does nothing.
        var again = new Database(dir.Path);
        again.Migrate("m", TwoMigrations);
        using var c = again.Open();
        using var command = c.CreateCommand();
        command.CommandText = "INSERT INTO t (v) VALUES ('a'); SELECT w FROM t;";
        await Assert.That(Convert.ToInt32(command.ExecuteScalar())).IsEqualTo(7);
        command.CommandText = "SELECT count(*) FROM schema_migrations WHERE module = 'm'";
        await Assert.That(Convert.ToInt32(command.ExecuteScalar())).IsEqualTo(2);
    }

    [Test]
    public async Task A_failing_migration_leaves_nothing_behind()
    {
        using var dir = new TempDir();
        var db = new Database(dir.Path);
        string[] broken = [TwoMigrations[0], "CREATE TABLE half (a); THIS IS NOT SQL;"];
        await Assert.That(() => db.Migrate("m", broken)).Throws<SqliteException>();
        await Assert.That(db.SchemaVersion("m")).IsEqualTo(1);
        using var c = db.Open();
        using var command = c.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'half'";
        await Assert.That(Convert.ToInt32(command.ExecuteScalar())).IsEqualTo(0);
    }

    [Test]
    public async Task Concurrent_writers_from_many_threads_keep_the_file_sound()
    {
        using var dir = new TempDir();
        var db = new Database(dir.Path);
        db.Migrate("m", TwoMigrations);
        const int threads = 8, each = 150;
        var second = new Database(dir.Path); // a second pool on the same file, like another module
        await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < each; i++)
            {
                using var c = (t % 2 == 0 ? db : second).Open();
                using var tx = c.BeginTransaction();
                using var command = c.CreateCommand();
                command.Transaction = tx;
                command.CommandText = "INSERT INTO t (v) VALUES ($v)";
                command.Parameters.AddWithValue("$v", $"{t}-{i}");
                command.ExecuteNonQuery();
                tx.Commit();
            }
        })));
        using (var c = db.Open())
        {
            using var command = c.CreateCommand();
            command.CommandText = "SELECT count(*) FROM t";
            await Assert.That(Convert.ToInt32(command.ExecuteScalar())).IsEqualTo(threads * each);
        }
        await Assert.That(db.IntegrityCheck()).IsEqualTo("ok");
    }

    [Test]
    public async Task Durable_file_appears_only_when_committed()
    {
        using var dir = new TempDir();
        var target = Path.Combine(dir.Path, "sub", "body");
        DurableFile.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = DurableFile.CreateTemp(target);
        await temp.WriteAsync("hello"u8.ToArray());
        await Assert.That(File.Exists(target)).IsFalse();
        await Assert.That(File.Exists(target + ".tmp")).IsTrue();
        DurableFile.Commit(temp, target);
        await Assert.That(File.ReadAllText(target)).IsEqualTo("hello");
        await Assert.That(File.Exists(target + ".tmp")).IsFalse();
        await Assert.That(File.GetUnixFileMode(target)).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
