// The downloads root on disk: saving (streamed, fsynced, renamed, hard-linked), importing, serving and
// deleting files, and the start-up recovery. The order of file-system and index steps is what makes a
// crash at any instant harmless; see StorageIndex for the protocol.
//
//   body pipe ──▶ .partial/{id}.tmp ──fsync──▶ index: pending ──rename──▶ by-job/{id}/{name}
//                                                                 ├─link──▶ by-domain/{host}/{id}
//                                                                 └─link──▶ by-date/{YYYY-MM-DD}/{id}
//                                                     index: ready ◀── fsync of every touched folder
//
// Containment: a caller's path is first checked by StoragePaths (no `..`, not absolute, no backslash or
// NUL), then must be in the index, then its real path (every symlink resolved, and again on the open
// file descriptor) must be exactly where the index says. Deletion unlinks only inside folders whose real
// path is the expected one, so a planted symlink can neither be read through nor make us delete
// anything outside the root.
using System.IO.Pipelines;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Errors;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Storage;

internal sealed class FileStore : IFileStore
{
    private readonly StorageOptions _options;
    private readonly StorageIndex _index;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly StorageMetrics? _metrics;

    // Serialises folder creation/linking of saves with folder pruning of deletes, so a delete never
    // removes a by-date/{day} folder a concurrent save is about to link into.
    private readonly Lock _layout = new();

    public FileStore(StorageOptions options, StorageIndex index, TimeProvider time, ILogger log, StorageMetrics? metrics = null)
    {
        _options = options;
        _index = index;
        _time = time;
        _log = log;
        _metrics = metrics;
        Root = Path.GetFullPath(options.DownloadsDir);
        DurableFile.CreateDirectory(Root);
        RealRoot = Posix.RealPath(Root) ?? throw new IOException($"cannot resolve the downloads root {Root}");
        PartialDir = Path.Join(Root, StoragePaths.Partial);
        Recover();
    }

    /// <summary>The downloads root as configured (absolute).</summary>
    public string Root { get; }

    /// <summary>The downloads root with every symlink resolved: the containment reference.</summary>
    public string RealRoot { get; }

    private string PartialDir { get; }

    // ---- saving ----------------------------------------------------------------------------------

    public async Task<StoredFile> SaveAsync(string id, string? savePath, string sourceUrl, PipeReader body, long? maxBytes, CancellationToken ct)
    {
        var plan = Prepare(id, savePath, sourceUrl, out var createdAt);
        var (limit, limitName) = Limit(maxBytes);
        var tempPath = TempPath(id);
        FileStream? temp = null;
        var outcome = "io";
        try
        {
            EnsureDirectory(StoragePaths.Partial);
            temp = DurableFile.CreateTemp(Path.Join(PartialDir, id));
            long size = 0;
            while (true)
            {
                outcome = "transfer";
                var read = await body.ReadAsync(ct).ConfigureAwait(false);
                outcome = "io";
                foreach (var segment in read.Buffer)
                {
                    if (limit is { } max && size + segment.Length > max)
                    {
                        outcome = "too_large";
                        throw new ApiErrorException(new ApiError(502, ErrorCodes.ResponseTooLarge,
                            $"the response is larger than {limitName} ({max} bytes); nothing was saved"));
                    }
                    await temp.WriteAsync(segment, ct).ConfigureAwait(false);
                    size += segment.Length;
                }
                body.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) break;
                if (read.IsCanceled) throw new OperationCanceledException(ct);
            }
            temp.Flush(flushToDisk: true);
            await temp.DisposeAsync().ConfigureAwait(false);
            temp = null;
            ct.ThrowIfCancellationRequested();
            return Commit(plan, tempPath, size, sourceUrl, createdAt);
        }
        catch (OperationCanceledException)
        {
            _metrics?.SaveFailures.WithLabels("cancelled").Inc();
            throw;
        }
        catch (ApiErrorException e)
        {
            _metrics?.SaveFailures.WithLabels(outcome).Inc();
            Log.StoreFailed(_log, id, e.Error.Message, null);
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            _metrics?.SaveFailures.WithLabels("io").Inc();
            Log.StoreFailed(_log, id, e.Message, e);
            throw new ApiErrorException(StorageError(e));
        }
        finally
        {
            if (temp is not null) await temp.DisposeAsync().ConfigureAwait(false);
            DeleteQuietly(tempPath);
        }
    }

    public Task<StoredFile> ImportAsync(string id, string? savePath, string sourceUrl, string existingFile, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        // Idempotent for a job that ran again after a crash between its import and its completion.
        if (_index.FindReadyById(id) is { } done && done.Url == sourceUrl)
            return Task.FromResult(new StoredFile(done.Id, done.Paths, done.Size, done.CreatedAt));
        var plan = Prepare(id, savePath, sourceUrl, out var createdAt);
        var tempPath = TempPath(id);
        try
        {
            var source = new FileInfo(existingFile);
            if (!source.Exists || source.LinkTarget is not null)
                throw new IOException($"{existingFile} is not a regular file");
            var (limit, limitName) = Limit(null);
            if (limit is { } max && source.Length > max)
            {
                throw new ApiErrorException(new ApiError(502, ErrorCodes.ResponseTooLarge,
                    $"the response is larger than {limitName} ({max} bytes); nothing was saved"));
            }
            EnsureDirectory(StoragePaths.Partial);
            DeleteQuietly(tempPath);
            try
            {
                Posix.HardLink(source.FullName, tempPath); // same file system: no copy, same bytes
            }
            catch (IOException e) when (e.HResult == Posix.EXDEV)
            {
                CopyDurably(source.FullName, tempPath, ct);
            }
            if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(tempPath) != DurableFile.OwnerOnly)
                File.SetUnixFileMode(tempPath, DurableFile.OwnerOnly);
            return Task.FromResult(Commit(plan, tempPath, new FileInfo(tempPath).Length, sourceUrl, createdAt));
        }
        catch (ApiErrorException e)
        {
            Log.StoreFailed(_log, id, e.Error.Message, null);
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            _metrics?.SaveFailures.WithLabels("io").Inc();
            Log.StoreFailed(_log, id, e.Message, e);
            throw new ApiErrorException(StorageError(e));
        }
        finally
        {
            DeleteQuietly(tempPath);
        }
    }

    private StoragePlan Prepare(string id, string? savePath, string sourceUrl, out DateTimeOffset createdAt)
    {
        if (!Kernel.Ids.IsUuid(id) || id != id.ToLowerInvariant())
            throw new ArgumentException($"storage id must be a lowercase UUID, got '{id}'", nameof(id));
        if (savePath is not null && StoragePaths.SavePathProblem(savePath) is { } problem)
        {
            _metrics?.SaveFailures.WithLabels("invalid").Inc();
            throw new ApiErrorException(ApiError.Validation($"field 'save_path' {problem}"));
        }
        if (_index.Exists(id))
            throw new ApiErrorException(new ApiError(500, ErrorCodes.StorageError, $"a file is already stored for id {id}"));
        createdAt = _time.GetUtcNow();
        return StoragePaths.Plan(id, savePath, sourceUrl, createdAt);
    }

    private (long? Limit, string Name) Limit(long? maxBytes)
    {
        var flag = _options.MaxFileBytes > 0 ? _options.MaxFileBytes : (long?)null;
        if (maxBytes is { } m && (flag is null || m <= flag)) return (m, "max_filesize");
        return (flag, "--max-saved-file-bytes");
    }

    /// <summary>
    /// Moves a complete, fsynced temp file into place under its three paths. Index `pending` first, so a
    /// crash from here on is rolled back at start-up; `ready` last, so nobody sees a half-linked file.
    /// </summary>
    private StoredFile Commit(StoragePlan plan, string tempPath, long size, string sourceUrl, DateTimeOffset createdAt)
    {
        lock (_layout)
        {
            if (!_index.InsertPending(plan, sourceUrl, size, createdAt))
                throw new ApiErrorException(new ApiError(500, ErrorCodes.StorageError, $"a file is already stored for id {plan.Id}"));
            try
            {
                var jobFull = Full(plan.JobPath);
                EnsureDirectory(Parent(plan.JobPath));
                File.Move(tempPath, jobFull, overwrite: false);
                DurableFile.SyncDirectory(PartialDir);
                DurableFile.SyncDirectory(Path.GetDirectoryName(jobFull)!);
                foreach (var mirror in new[] { plan.DomainPath, plan.DatePath })
                {
                    EnsureDirectory(Parent(mirror));
                    Posix.HardLink(jobFull, Full(mirror));
                    DurableFile.SyncDirectory(Path.GetDirectoryName(Full(mirror))!);
                }
                _index.MarkReady(plan.Id);
            }
            catch
            {
                RemoveFiles(plan.Paths);
                try { _index.Remove(plan.Id); }
                catch (Microsoft.Data.Sqlite.SqliteException) { } // stays `pending`: start-up recovery removes it
                throw;
            }
        }
        _metrics?.Saved.Inc();
        _metrics?.SavedBytes.Inc(size);
        Log.Stored(_log, plan.Id, plan.JobPath, size);
        return new StoredFile(plan.Id, plan.Paths, size, createdAt);
    }

    private static void CopyDurably(string source, string tempPath, CancellationToken ct)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 0 };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = DurableFile.OwnerOnly;
        using var output = new FileStream(tempPath, options);
        var buffer = new byte[256 * 1024];
        int read;
        while ((read = input.Read(buffer)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            output.Write(buffer, 0, read);
        }
        output.Flush(flushToDisk: true);
    }

    // ---- reading, listing, deleting ---------------------------------------------------------------

    public (List<IndexEntry> Items, long Total) List(int page, int? limit) => _index.List(page, limit);

    /// <summary>The total and the page's entries, read in batches as they are enumerated.</summary>
    internal (long Total, IEnumerable<IndexEntry> Items) ListLazily(int page, int? limit) => _index.ListLazily(page, limit);

    /// <summary>
    /// Opens the stored file at <paramref name="path"/> (already checked by StoragePaths) for reading;
    /// null when it is not stored, or does not resolve to exactly its place in the root.
    /// </summary>
    public (IndexedFile File, FileStream Stream)? OpenRead(string path)
    {
        if (_index.FindReady(path) is not { } file) return null;
        var full = Full(path);
        var expected = Path.Join(RealRoot, path);
        if (Posix.RealPath(full) != expected)
        {
            Log.Escaped(_log, path);
            return null;
        }
        FileStream stream;
        try
        {
            stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }
        // The check above and the open are two steps: prove the descriptor we hold is the expected file.
        var opened = OpenedPath(stream);
        if (opened is not null && opened != expected)
        {
            stream.Dispose();
            Log.Escaped(_log, path);
            return null;
        }
        return (file, stream);
    }

    /// <summary>Deletes the stored file one of whose paths is <paramref name="path"/>, with its mirrors; null when none.</summary>
    public IndexedFile? Delete(string path)
    {
        if (_index.BeginDelete(path) is not { } file) return null;
        lock (_layout) RemoveFiles(file.Paths);
        _index.Remove(file.Id);
        _metrics?.Deleted.Inc();
        Log.Deleted(_log, file.Id, path);
        return file;
    }

    // ---- start-up recovery ------------------------------------------------------------------------

    /// <summary>Rolls unfinished saves and deletes back to "gone" and empties .partial.</summary>
    private void Recover()
    {
        var unfinished = _index.Unfinished();
        foreach (var file in unfinished)
        {
            RemoveFiles(file.Paths);
            _index.Remove(file.Id);
        }
        var partials = 0;
        if (Directory.Exists(PartialDir) && Posix.RealPath(PartialDir) == Path.Join(RealRoot, StoragePaths.Partial))
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(PartialDir))
            {
                if (DeleteQuietly(entry)) partials++;
            }
        }
        if (unfinished.Count > 0 || partials > 0) Log.Recovered(_log, unfinished.Count, partials);
    }

    // ---- file-system helpers ----------------------------------------------------------------------

    private string Full(string relative) => Path.Join(Root, relative);

    private static string Parent(string relative) => relative[..relative.LastIndexOf('/')];

    private string TempPath(string id) => DurableFile.TempPathFor(Path.Join(PartialDir, id));

    /// <summary>
    /// Creates each missing folder of <paramref name="relativeDir"/> with mode 0700 and fsyncs its parent;
    /// refuses an existing component that is a symlink or not a folder.
    /// </summary>
    private void EnsureDirectory(string relativeDir)
    {
        var current = Root;
        foreach (var part in relativeDir.Split('/'))
        {
            var next = Path.Join(current, part);
            var info = new DirectoryInfo(next);
            if (info.LinkTarget is not null) throw new IOException($"{relativeDir} crosses a symlink; refusing to write through it");
            if (!info.Exists)
            {
                if (File.Exists(next)) throw new IOException($"{relativeDir}: {part} exists and is not a folder");
                DurableFile.CreateDirectory(next);
                DurableFile.SyncDirectory(current);
            }
            current = next;
        }
    }

    /// <summary>Unlinks the given paths and prunes the folders they leave empty, never outside the root.</summary>
    private void RemoveFiles(IEnumerable<string> paths)
    {
        foreach (var relative in paths)
        {
            var parent = Parent(relative);
            if (IsInPlace(parent))
            {
                var full = Full(relative);
                try
                {
                    // An unlink removes the name only: a symlink planted here goes, its target stays.
                    if (File.Exists(full) || new FileInfo(full).LinkTarget is not null) File.Delete(full);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Log.RemoveFailed(_log, relative, e.Message);
                }
            }
            else if (Directory.Exists(Full(parent)))
            {
                Log.Escaped(_log, relative);
            }
            // Prune empty folders up to (not including) by-job, by-domain, by-date.
            for (var dir = parent; dir.Contains('/'); dir = Parent(dir))
            {
                if (!IsInPlace(dir)) break;
                try
                {
                    Directory.Delete(Full(dir), recursive: false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    break; // not empty (or gone): stop here
                }
            }
        }
    }

    /// <summary>True when the folder exists and its real path is exactly its place under the real root.</summary>
    private bool IsInPlace(string relativeDir) => Posix.RealPath(Full(relativeDir)) == Path.Join(RealRoot, relativeDir);

    /// <summary>The path the kernel has for an open descriptor (/proc/self/fd), or null where that is not available.</summary>
    private static string? OpenedPath(FileStream stream)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool DeleteQuietly(string path)
    {
        try
        {
            if (!File.Exists(path) && new FileInfo(path).LinkTarget is null) return false;
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static ApiError StorageError(Exception e) => new(500, ErrorCodes.StorageError, "failed to store the file: " + e.Message);
}
