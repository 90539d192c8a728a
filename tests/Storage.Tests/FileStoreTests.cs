// The file store over real folders and a real SQLite index in a temp dir: the three hard-linked paths,
// modes, crash consistency (cancel, transfer failure, size limit, disk errors, a crash mid-commit),
// delete via any mirror, import, and containment against planted symlinks.
using System.Buffers;
using System.IO.Pipelines;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Storage.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace HoodyCurl.Storage.Tests;

public class FileStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 15, 10, 30, 0, TimeSpan.Zero);
    private const string Url = "http://files.example.com/data/report.csv";

    private sealed class Fixture : IDisposable
    {
        private readonly TempDir _dir = new();

        public Fixture(long maxFileBytes = 0)
        {
            Time = new ManualTime(Start);
            Options = new StorageOptions { DownloadsDir = Path.Join(_dir.Path, "downloads"), MaxFileBytes = maxFileBytes };
            Store = Open();
        }

        public ManualTime Time { get; }
        public StorageOptions Options { get; }
        public FileStore Store { get; private set; }
        public string StorageDir => _dir.Path;
        public string Root => Options.DownloadsDir;

        /// <summary>A new store on the same folders: what a restart sees.</summary>
        public FileStore Open() => Store = new FileStore(Options, new StorageIndex(new Database(_dir.Path)), Time, NullLogger.Instance);

        public string Full(string relative) => Path.Join(Root, relative);

        /// <summary>Every file (not folder) under downloads/, relative, excluding nothing.</summary>
        public string[] Files() => Directory.Exists(Root)
            ? [.. Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Root, f)).Order(StringComparer.Ordinal)]
            : [];

        public void Dispose() => _dir.Dispose();
    }

    private static string NewId() => HoodyCurl.Kernel.Ids.New();

    private static PipeReader Body(byte[] bytes)
    {
        var pipe = new Pipe();
        pipe.Writer.Write(bytes);
        pipe.Writer.Complete();
        return pipe.Reader;
    }

    private static byte[] Bytes(int n, int seed = 1)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Test]
    public async Task Save_puts_the_bytes_under_three_hard_linked_paths()
    {
        using var f = new Fixture();
        var id = NewId();
        var bytes = Bytes(100_000);
        var saved = await f.Store.SaveAsync(id, "sub/dir/out.bin", Url, Body(bytes), null, CancellationToken.None);

        string[] expected = [$"by-job/{id}/sub/dir/out.bin", $"by-domain/files.example.com/{id}", $"by-date/2026-01-15/{id}"];
        await Assert.That(saved.Paths).IsEquivalentTo(expected, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(saved.Size).IsEqualTo(100_000L);
        await Assert.That(saved.CreatedAt).IsEqualTo(Start);
        foreach (var p in expected)
        {
            await Assert.That(File.ReadAllBytes(f.Full(p)).SequenceEqual(bytes)).IsTrue();
            await Assert.That(File.GetUnixFileMode(f.Full(p))).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        await Assert.That(Inode(f.Full(expected[0]))).IsEqualTo(Inode(f.Full(expected[1])));
        await Assert.That(Inode(f.Full(expected[0]))).IsEqualTo(Inode(f.Full(expected[2])));
        foreach (var dir in new[] { "by-job", $"by-job/{id}", $"by-job/{id}/sub", $"by-job/{id}/sub/dir", "by-domain/files.example.com", "by-date/2026-01-15" })
            await Assert.That(File.GetUnixFileMode(f.Full(dir))).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await Assert.That(f.Files()).IsEquivalentTo(expected.Order(StringComparer.Ordinal).ToArray());

        var (items, total) = f.Store.List(1, null);
        await Assert.That(total).IsEqualTo(3L);
        await Assert.That(items.Select(i => i.Path).ToArray()).IsEquivalentTo(expected.Order(StringComparer.Ordinal).ToArray(), TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(items.All(i => i.Id == id && i.Url == Url && i.Size == 100_000)).IsTrue();
    }

    [Test]
    public async Task Without_a_save_path_the_name_comes_from_the_url()
    {
        using var f = new Fixture();
        var id = NewId();
        var saved = await f.Store.SaveAsync(id, null, Url, Body([1, 2, 3]), null, CancellationToken.None);
        await Assert.That(saved.Paths[0]).IsEqualTo($"by-job/{id}/report.csv");
        var other = NewId();
        var fallback = await f.Store.SaveAsync(other, null, "http://files.example.com/", Body([]), null, CancellationToken.None);
        await Assert.That(fallback.Paths[0]).IsEqualTo($"by-job/{other}/response.bin");
        await Assert.That(fallback.Size).IsEqualTo(0L);
    }

    [Test]
    public async Task Cancel_mid_stream_leaves_nothing_under_a_real_name()
    {
        using var f = new Fixture();
        var id = NewId();
        var pipe = new Pipe();
        using var cts = new CancellationTokenSource();
        var save = f.Store.SaveAsync(id, "big.bin", Url, pipe.Reader, null, cts.Token);
        await pipe.Writer.WriteAsync(Bytes(256 * 1024));
        await WaitUntil(() => Directory.Exists(f.Full(".partial")) && Directory.EnumerateFiles(f.Full(".partial")).Any());
        await cts.CancelAsync();
        await Assert.ThrowsAsync<OperationCanceledException>(() => save);
        await Assert.That(f.Files()).IsEmpty();
        await Assert.That(f.Store.List(1, null).Total).IsEqualTo(0L);
    }

    [Test]
    public async Task A_transfer_failing_mid_body_propagates_and_leaves_nothing()
    {
        using var f = new Fixture();
        var pipe = new Pipe();
        var save = f.Store.SaveAsync(NewId(), null, Url, pipe.Reader, null, CancellationToken.None);
        await pipe.Writer.WriteAsync(Bytes(64 * 1024));
        var failure = new ApiErrorException(new ApiError(502, ErrorCodes.UpstreamError, "connection reset"));
        await pipe.Writer.CompleteAsync(failure);
        var thrown = await Assert.ThrowsAsync<ApiErrorException>(() => save);
        await Assert.That(thrown!.Error.Message).IsEqualTo("connection reset");
        await Assert.That(f.Files()).IsEmpty();
    }

    [Test]
    public async Task Max_bytes_and_the_flag_limit_fail_cleanly()
    {
        using var f = new Fixture(maxFileBytes: 5000);
        var byRequest = await Assert.ThrowsAsync<ApiErrorException>(() => f.Store.SaveAsync(NewId(), null, Url, Body(Bytes(2000)), 1000, CancellationToken.None));
        await Assert.That(byRequest!.Error.Code).IsEqualTo("RESPONSE_TOO_LARGE");
        await Assert.That(byRequest.Error.Message).Contains("max_filesize");
        var byFlag = await Assert.ThrowsAsync<ApiErrorException>(() => f.Store.SaveAsync(NewId(), null, Url, Body(Bytes(6000)), 10_000, CancellationToken.None));
        await Assert.That(byFlag!.Error.Message).Contains("--max-saved-file-bytes");
        await Assert.That(f.Files()).IsEmpty();
        var exact = await f.Store.SaveAsync(NewId(), null, Url, Body(Bytes(1000)), 1000, CancellationToken.None);
        await Assert.That(exact.Size).IsEqualTo(1000L);
    }

    [Test]
    public async Task A_disk_error_before_the_body_is_a_storage_error()
    {
        using var f = new Fixture();
        File.WriteAllText(f.Full(".partial"), "a file where the temp folder should be");
        var thrown = await Assert.ThrowsAsync<ApiErrorException>(() => f.Store.SaveAsync(NewId(), null, Url, Body(Bytes(10)), null, CancellationToken.None));
        await Assert.That(thrown!.Error.Status).IsEqualTo(500);
        await Assert.That(thrown.Error.Code).IsEqualTo("STORAGE_ERROR");
        await Assert.That(f.Files()).IsEquivalentTo([".partial"]);
    }

    [Test]
    public async Task A_disk_error_while_linking_rolls_the_whole_save_back()
    {
        using var f = new Fixture();
        var id = NewId();
        Directory.CreateDirectory(f.Full("by-date"));
        File.WriteAllText(f.Full("by-date/2026-01-15"), "a file where the day folder should be");
        var thrown = await Assert.ThrowsAsync<ApiErrorException>(() => f.Store.SaveAsync(id, "x.bin", Url, Body(Bytes(50_000)), null, CancellationToken.None));
        await Assert.That(thrown!.Error.Code).IsEqualTo("STORAGE_ERROR");
        await Assert.That(f.Files()).IsEquivalentTo(["by-date/2026-01-15"]); // only the obstacle
        await Assert.That(f.Store.List(1, null).Total).IsEqualTo(0L);
        File.Delete(f.Full("by-date/2026-01-15"));
        var retried = await f.Store.SaveAsync(id, "x.bin", Url, Body(Bytes(50_000)), null, CancellationToken.None);
        await Assert.That(retried.Paths.Count).IsEqualTo(3);
    }

    [Test]
    public async Task Bad_save_path_and_reused_id_are_refused_before_writing()
    {
        using var f = new Fixture();
        var bad = await Assert.ThrowsAsync<ApiErrorException>(() => f.Store.SaveAsync(NewId(), "../x", Url, Body([1]), null, CancellationToken.None));
        await Assert.That(bad!.Error.Status).IsEqualTo(400);
        var id = NewId();
        await f.Store.SaveAsync(id, null, Url, Body([1]), null, CancellationToken.None);
        var again = await Assert.ThrowsAsync<ApiErrorException>(() => f.Store.SaveAsync(id, null, Url, Body([2]), null, CancellationToken.None));
        await Assert.That(again!.Error.Code).IsEqualTo("STORAGE_ERROR");
        await Assert.That(f.Files().Length).IsEqualTo(3);
    }

    [Test]
    public async Task Delete_via_any_mirror_removes_all_three_and_prunes_folders()
    {
        using var f = new Fixture();
        var keep = await f.Store.SaveAsync(NewId(), null, Url, Body([9]), null, CancellationToken.None);
        var id = NewId();
        var saved = await f.Store.SaveAsync(id, "deep/er/file.txt", Url, Body([1, 2]), null, CancellationToken.None);
        var deleted = f.Store.Delete(saved.Paths[2]);
        await Assert.That(deleted!.Id).IsEqualTo(id);
        await Assert.That(f.Files()).IsEquivalentTo(keep.Paths.Order(StringComparer.Ordinal).ToArray());
        await Assert.That(Directory.Exists(f.Full($"by-job/{id}"))).IsFalse();
        await Assert.That(Directory.Exists(f.Full("by-date/2026-01-15"))).IsTrue(); // still holds the other file
        await Assert.That(f.Store.Delete(saved.Paths[0])).IsNull();
        await Assert.That(f.Store.OpenRead(saved.Paths[1])).IsNull();
        f.Store.Delete(keep.Paths[1]);
        await Assert.That(f.Files()).IsEmpty();
        await Assert.That(Directory.Exists(f.Full("by-date/2026-01-15"))).IsFalse();
    }

    [Test]
    public async Task Import_links_an_existing_durable_file_and_leaves_it_in_place()
    {
        using var f = new Fixture();
        var source = Path.Join(f.StorageDir, "jobs", "body");
        Directory.CreateDirectory(Path.GetDirectoryName(source)!);
        var bytes = Bytes(12_345);
        File.WriteAllBytes(source, bytes);
        File.SetUnixFileMode(source, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var id = NewId();
        var saved = await f.Store.ImportAsync(id, "in/port.bin", Url, source, CancellationToken.None);
        await Assert.That(saved.Size).IsEqualTo(12_345L);
        await Assert.That(File.Exists(source)).IsTrue();
        await Assert.That(Inode(f.Full(saved.Paths[0]))).IsEqualTo(Inode(source));
        await Assert.That(File.ReadAllBytes(f.Full(saved.Paths[2])).SequenceEqual(bytes)).IsTrue();
        f.Store.Delete(saved.Paths[0]);
        await Assert.That(File.ReadAllBytes(source).SequenceEqual(bytes)).IsTrue(); // deleting the saved copy keeps the job's body
        await Assert.ThrowsAsync<ApiErrorException>(() => f.Store.ImportAsync(NewId(), null, Url, Path.Join(f.StorageDir, "missing"), CancellationToken.None));
    }

    [Test]
    public async Task A_crash_mid_commit_is_rolled_back_at_start_up()
    {
        using var f = new Fixture();
        var done = await f.Store.SaveAsync(NewId(), null, Url, Body([1]), null, CancellationToken.None);
        // What a kill -9 between "index: pending" and "index: ready" leaves behind.
        var id = NewId();
        var plan = StoragePaths.Plan(id, "half.bin", Url, Start);
        var index = new StorageIndex(new Database(f.StorageDir));
        await Assert.That(index.InsertPending(plan, Url, 3, Start)).IsTrue();
        Directory.CreateDirectory(Path.GetDirectoryName(f.Full(plan.JobPath))!);
        File.WriteAllBytes(f.Full(plan.JobPath), [1, 2, 3]);
        File.WriteAllBytes(f.Full(".partial/" + NewId() + ".tmp"), [7]);
        await Assert.That(f.Store.OpenRead(plan.JobPath)).IsNull(); // pending is never served

        var restarted = f.Open();
        await Assert.That(f.Files()).IsEquivalentTo(done.Paths.Order(StringComparer.Ordinal).ToArray());
        await Assert.That(restarted.List(1, null).Total).IsEqualTo(3L);
        await Assert.That(index.Exists(id)).IsFalse();
    }

    [Test]
    public async Task A_planted_file_or_symlink_is_never_served()
    {
        using var f = new Fixture();
        var outside = Path.Join(f.StorageDir, "secret.txt");
        File.WriteAllText(outside, "outside the root");
        Directory.CreateDirectory(f.Full("by-job/planted"));
        File.CreateSymbolicLink(f.Full("by-job/planted/link"), outside);
        File.WriteAllText(f.Full("by-job/planted/plain"), "not indexed");
        await Assert.That(f.Store.OpenRead("by-job/planted/link")).IsNull();
        await Assert.That(f.Store.OpenRead("by-job/planted/plain")).IsNull();
        await Assert.That(f.Store.Delete("by-job/planted/link")).IsNull();
        await Assert.That(File.Exists(outside)).IsTrue();
    }

    [Test]
    public async Task A_mirror_replaced_by_a_symlink_is_refused_and_its_target_survives_delete()
    {
        using var f = new Fixture();
        var saved = await f.Store.SaveAsync(NewId(), null, Url, Body([1, 2, 3]), null, CancellationToken.None);
        var outside = Path.Join(f.StorageDir, "secret.txt");
        File.WriteAllText(outside, "outside the root");
        File.Delete(f.Full(saved.Paths[1]));
        File.CreateSymbolicLink(f.Full(saved.Paths[1]), outside);

        await Assert.That(f.Store.OpenRead(saved.Paths[1])).IsNull();
        var ok = f.Store.OpenRead(saved.Paths[0]);
        await Assert.That(ok).IsNotNull();
        ok!.Value.Stream.Dispose();
        await Assert.That(f.Store.Delete(saved.Paths[1])).IsNotNull();
        await Assert.That(File.ReadAllText(outside)).IsEqualTo("outside the root");
        await Assert.That(f.Files()).IsEmpty();
    }

    [Test]
    public async Task A_folder_replaced_by_a_symlink_is_neither_read_nor_written_through()
    {
        using var f = new Fixture();
        var id = NewId();
        var saved = await f.Store.SaveAsync(id, "name.txt", Url, Body([1, 2, 3]), null, CancellationToken.None);
        var outsideDir = Path.Join(f.StorageDir, "outside");
        Directory.CreateDirectory(outsideDir);
        File.WriteAllText(Path.Join(outsideDir, "name.txt"), "outside the root");
        Directory.Delete(f.Full($"by-job/{id}"), recursive: true);
        Directory.CreateSymbolicLink(f.Full($"by-job/{id}"), outsideDir);

        await Assert.That(f.Store.OpenRead(saved.Paths[0])).IsNull();
        await Assert.That(f.Store.Delete(saved.Paths[0])).IsNotNull();
        await Assert.That(File.ReadAllText(Path.Join(outsideDir, "name.txt"))).IsEqualTo("outside the root");

        // A save never writes through a symlinked folder either.
        Directory.CreateSymbolicLink(f.Full("by-domain/evil.example"), outsideDir);
        var thrown = await Assert.ThrowsAsync<ApiErrorException>(() => f.Store.SaveAsync(NewId(), null, "http://evil.example/x", Body([1]), null, CancellationToken.None));
        await Assert.That(thrown!.Error.Code).IsEqualTo("STORAGE_ERROR");
        await Assert.That(Directory.EnumerateFileSystemEntries(outsideDir).Count()).IsEqualTo(1);
    }

    private static long Inode(string path)
    {
        // Hard links share an inode; .NET has no API for it, coreutils' stat(1) prints it.
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return long.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in 10 s");
            await Task.Delay(10);
        }
    }
}
