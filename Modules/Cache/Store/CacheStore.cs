// The on-disk store, after cacache's design (the Rust crate the original sidecar uses):
//   content/<aa>/<bb>/<sha256>   bodies named by their sha256 (two keys with one body share one file)
//   index/<aa>/<bb>/<sha256(key)> buckets of append-only lines "<sha256(json)>\t<json>", newest last
//   tmp/                          bodies being written; emptied at start-up
// A body is written to tmp, fsynced and renamed into content/ before its index line is appended and fsynced, so
// a crash leaves either no line or a line whose content is complete. A torn last line fails its own hash and is
// ignored.
// Integrity on every read: a body's sha256 is verified on its first read after a start, and the file's identity
// then (device, inode, size, mtime, ctime: FileIdentity) is remembered (once its ctime is a few seconds old, see
// Remember). Every read fstat()s the opened file: the same
// identity means the same verified bytes (content files are never rewritten in place, and any write, truncation,
// replacement or touch through the filesystem changes the identity, ctime included), so the body is served without
// hashing it again; any other identity is hashed again before (small bodies) or while (large ones) it is served. A
// mismatch, or a missing or short file, removes the entry. Not covered: the medium silently flipping bits under an
// unchanged inode while the process runs (the next start re-hashes everything it reads). docs/decisions.md.
// Files are 0600, folders 0700. The in-memory map (bucket sizes, last use, content reference counts) drives
// least-recently-used eviction, which runs on its own task, never on a request.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HoodyCurl.Cache.Store;

internal sealed class CacheStore : IDisposable
{
    private const UnixFileMode DirMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    /// <summary>Bodies up to this size are verified before their first byte is served; larger ones while streaming.</summary>
    public const long VerifyUpfrontBytes = 16L << 20;
    /// <summary>A file version's identity is trusted once its ctime is this old (see <see cref="Remember"/>).</summary>
    private const long SettledSeconds = 2;

    private readonly string _root, _content, _index, _tmp;
    private readonly long _maxBytes;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Size, int Refs)> _contents = new(StringComparer.Ordinal);
    /// <summary>Content hash → the identity of the file version whose sha256 was verified in this process.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, FileIdentity> _verified = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _evictSignal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _evictor;
    private long _bucketBytes, _contentBytes, _clock;

    public CacheStore(string root, long maxBytes)
    {
        _root = root;
        _maxBytes = maxBytes;
        _content = Path.Combine(root, "content");
        _index = Path.Combine(root, "index");
        _tmp = Path.Combine(root, "tmp");
        foreach (var dir in new[] { root, _content, _index, _tmp }) Directory.CreateDirectory(dir, DirMode);
        foreach (var stray in Directory.EnumerateFiles(_tmp)) TryDelete(stray);
        Scan();
        _evictor = Task.Run(EvictLoopAsync);
        if (TotalBytes > _maxBytes) _evictSignal.Release();
    }

    /// <summary>Called with a reason when a corrupt entry was found and removed.</summary>
    public Action<string>? Corrupted { get; init; }
    /// <summary>Called after each eviction pass with the number of entries evicted.</summary>
    public Action<int>? Evicted { get; set; }

    public long TotalBytes => Interlocked.Read(ref _bucketBytes) + Interlocked.Read(ref _contentBytes);

    public int ObjectCount
    {
        get { lock (_gate) return _contents.Count; }
    }

    /// <summary>File versions whose sha256 was verified and whose identity is remembered (tests).</summary>
    internal int VerifiedCount => _verified.Count;

    public int EntryCount
    {
        get { lock (_gate) return _buckets.Count; }
    }

    public static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private string BucketPath(string key)
    {
        if (_bucketPaths.TryGetValue(key, out var known)) return known;
        var h = Sha256Hex(key);
        var path = Path.Combine(_index, h[..2], h[2..4], h);
        if (_bucketPaths.Count >= 4096) _bucketPaths.Clear(); // bounded memo of recent keys
        _bucketPaths[key] = path;
        return path;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _bucketPaths = new(StringComparer.Ordinal);

    private string ContentPath(string hash) => Path.Combine(_content, hash[..2], hash[2..4], hash);

    /// <summary>The live entries of a key (tombstones applied, one per Vary signature, newest last); marks the key used.</summary>
    public List<IndexEntry> Read(string key)
    {
        var path = BucketPath(key);
        lock (_gate)
        {
            if (!_buckets.TryGetValue(path, out var bucket)) return [];
            bucket.LastUsed = ++_clock;
            // The parsed live lines are kept in memory (the file is the truth on every write and at start-up),
            // so a hit costs no index read or parse.
            var live = new List<IndexEntry>(bucket.Entries.Count);
            foreach (var e in bucket.Entries) if (e.Key == key) live.Add(e);
            return live;
        }
    }

    private static List<IndexEntry> ReadLive(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException)
        {
            return [];
        }
        var live = new List<IndexEntry>();
        foreach (var line in text.Split('\n'))
        {
            var tab = line.IndexOf('\t');
            if (tab != 64) continue; // a torn or foreign line
            var json = line[(tab + 1)..];
            if (!line.AsSpan(0, 64).SequenceEqual(Sha256Hex(json))) continue;
            IndexEntry? entry;
            try
            {
                entry = JsonSerializer.Deserialize(json, IndexJson.Default.IndexEntry);
            }
            catch (JsonException)
            {
                continue;
            }
            if (entry is null) continue;
            if (entry.Integrity is null)
            {
                live.RemoveAll(e => e.Key == entry.Key);
                continue;
            }
            live.RemoveAll(e => e.Key == entry.Key && e.VarySignature == entry.VarySignature);
            live.Add(entry);
        }
        return live;
    }

    /// <summary>Opens a body for reading, its integrity checked (header comment; <see cref="VerifyUpfrontBytes"/>); null when
    /// the file is missing, short or corrupt (the key is then removed, and a corruption reported). A verified body comes
    /// back as a <see cref="ContentStream"/> at position 0; a large one not verified yet is verified by that stream as it is
    /// read.</summary>
    public Stream? OpenContent(IndexEntry entry)
    {
        if (entry.ContentHash is not { Length: 64 } hash) return null;
        var handle = ContentStream.OpenHandle(ContentPath(hash));
        if (handle is null)
        {
            Remove(entry.Key); // evicted underneath the index: a plain miss
            return null;
        }
        var identity = FileIdentity.Of(handle);
        if (identity is not { } id || id.Size != entry.Size)
        {
            handle.Dispose();
            Corrupt(entry, "size");
            return null;
        }
        if (_verified.TryGetValue(hash, out var known) && known == id) return ContentStream.Over(handle, entry.Size);
        if (entry.Size > VerifyUpfrontBytes)
            return ContentStream.Verifying(handle, entry.Size, hash, () => Corrupt(entry, "hash"), () => Remember(hash, id));
        if (!HashMatches(handle, hash, entry.Size))
        {
            handle.Dispose();
            Corrupt(entry, "hash");
            return null;
        }
        Remember(hash, id);
        return ContentStream.Over(handle, entry.Size);
    }

    private static bool HashMatches(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string hash, long size)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(size, 1), 256 * 1024));
        try
        {
            long offset = 0;
            int n;
            while ((n = RandomAccess.Read(handle, buffer, offset)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                offset += n;
            }
            Span<byte> actual = stackalloc byte[32];
            sha.GetHashAndReset(actual);
            return offset == size && Convert.ToHexStringLower(actual) == hash;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Remembers a verified file version, unless its ctime is under <see cref="SettledSeconds"/> old: the kernel stamps
    /// ctime from a coarse clock (a tick of a few ms), so a write in the same tick as the verification could leave the
    /// identity unchanged; a version older than that cannot be changed without a later ctime.
    /// </summary>
    private void Remember(string hash, FileIdentity id)
    {
        if (id.CtimeSec < DateTimeOffset.UtcNow.ToUnixTimeSeconds() - SettledSeconds) _verified[hash] = id;
    }

    private void Corrupt(IndexEntry entry, string why)
    {
        lock (_gate)
        {
            Remove(entry.Key);
            if (entry.ContentHash is { } gone) _verified.TryRemove(gone, out _);
            if (entry.ContentHash is { } hash && !_contents.ContainsKey(hash)) TryDelete(ContentPath(hash));
            // A corrupt file still referenced by another key goes too: every key that used it would fail anyway.
            else if (entry.ContentHash is { } shared)
            {
                TryDelete(ContentPath(shared));
                if (_contents.Remove(shared, out var c)) Interlocked.Add(ref _contentBytes, -c.Size);
            }
        }
        Corrupted?.Invoke(why);
    }

    public ContentWriter CreateWriter() => new(Path.Combine(_tmp, Guid.NewGuid().ToString("N")));

    /// <summary>Makes a written body and its index line durable and visible. The writer is disposed.</summary>
    public void Commit(ContentWriter writer, IndexEntry entry)
    {
        var hash = writer.Finish();
        var target = ContentPath(hash);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!, DirMode);
        lock (_gate)
        {
            if (File.Exists(target) && new FileInfo(target).Length == writer.Length) TryDelete(writer.TempPath); // dedup
            else File.Move(writer.TempPath, target, overwrite: true);
            if (!_contents.ContainsKey(hash))
            {
                _contents[hash] = (writer.Length, 0);
                Interlocked.Add(ref _contentBytes, writer.Length);
            }
            AppendLocked(entry with { Integrity = "sha256-" + hash, Size = writer.Length });
        }
        if (TotalBytes > _maxBytes) _evictSignal.Release();
    }

    /// <summary>Appends a line for a body already stored (a 304 refresh).</summary>
    public void Append(IndexEntry entry)
    {
        lock (_gate) AppendLocked(entry);
    }

    private void AppendLocked(IndexEntry entry)
    {
        var path = BucketPath(entry.Key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!, DirMode);
        var json = JsonSerializer.Serialize(entry, IndexJson.Default.IndexEntry);
        var line = Encoding.UTF8.GetBytes(Sha256Hex(json) + "\t" + json + "\n");
        var before = _buckets.TryGetValue(path, out var old) ? old.Hashes : [];
        using (var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, UnixCreateMode = FileMode600 }))
        {
            file.Write(line);
            file.Flush(flushToDisk: true);
        }
        var live = ReadLive(path);
        if (new FileInfo(path).Length > 16 * 1024) Rewrite(path, live);
        Track(path, live, before);
    }

    /// <summary>Compacts a bucket to its live lines (temp file, fsync, rename).</summary>
    private static void Rewrite(string path, List<IndexEntry> live)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = FileMode600 }))
        {
            foreach (var e in live)
            {
                var json = JsonSerializer.Serialize(e, IndexJson.Default.IndexEntry);
                file.Write(Encoding.UTF8.GetBytes(Sha256Hex(json) + "\t" + json + "\n"));
            }
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Updates the in-memory map after a bucket changed: its size, last use and content references.</summary>
    private void Track(string path, List<IndexEntry> live, HashSet<string> before)
    {
        var size = File.Exists(path) ? new FileInfo(path).Length : 0;
        var hashes = live.Select(e => e.ContentHash).OfType<string>().ToHashSet(StringComparer.Ordinal);
        if (_buckets.TryGetValue(path, out var bucket)) Interlocked.Add(ref _bucketBytes, -bucket.Bytes);
        if (live.Count == 0)
        {
            _buckets.Remove(path);
            TryDelete(path);
            size = 0;
        }
        else
        {
            _buckets[path] = new Bucket { Bytes = size, LastUsed = ++_clock, Hashes = hashes, Entries = live };
            Interlocked.Add(ref _bucketBytes, size);
        }
        foreach (var h in hashes.Except(before)) if (_contents.TryGetValue(h, out var c)) _contents[h] = (c.Size, c.Refs + 1);
        foreach (var h in before.Except(hashes)) Release(h);
    }

    private void Release(string hash)
    {
        if (!_contents.TryGetValue(hash, out var c)) return;
        if (c.Refs > 1)
        {
            _contents[hash] = (c.Size, c.Refs - 1);
            return;
        }
        _contents.Remove(hash);
        _verified.TryRemove(hash, out _);
        Interlocked.Add(ref _contentBytes, -c.Size);
        TryDelete(ContentPath(hash));
    }

    /// <summary>Removes every entry of a key (all Vary variants); bodies no other key uses are deleted.</summary>
    public bool Remove(string key)
    {
        var path = BucketPath(key);
        lock (_gate)
        {
            if (!_buckets.TryGetValue(path, out var bucket)) return false;
            var others = ReadLive(path).Where(e => e.Key != key).ToList(); // sha256 collisions of keys: never in practice
            if (others.Count > 0) Rewrite(path, others);
            else TryDelete(path);
            Track(path, others, bucket.Hashes);
            return true;
        }
    }

    /// <summary>Deletes everything; returns the number of entries (keys) removed.</summary>
    public int Purge()
    {
        lock (_gate)
        {
            var count = _buckets.Count;
            foreach (var path in _buckets.Keys.ToList()) TryDelete(path);
            foreach (var hash in _contents.Keys.ToList()) TryDelete(ContentPath(hash));
            _buckets.Clear();
            _contents.Clear();
            _verified.Clear();
            Interlocked.Exchange(ref _bucketBytes, 0);
            Interlocked.Exchange(ref _contentBytes, 0);
            return count;
        }
    }

    private void Scan()
    {
        foreach (var path in Directory.EnumerateFiles(_index, "*", SearchOption.AllDirectories))
        {
            if (path.EndsWith(".tmp", StringComparison.Ordinal))
            {
                TryDelete(path);
                continue;
            }
            var live = ReadLive(path);
            // Lines whose body never made it to content/ (it cannot happen with the write order, but a disk can lie).
            live.RemoveAll(e => e.ContentHash is not { Length: 64 } h || !File.Exists(ContentPath(h)));
            if (live.Count == 0)
            {
                TryDelete(path);
                continue;
            }
            foreach (var h in live.Select(e => e.ContentHash!).Distinct())
                if (!_contents.ContainsKey(h))
                {
                    var size = new FileInfo(ContentPath(h)).Length;
                    _contents[h] = (size, 0);
                    _contentBytes += size;
                }
            Track(path, live, []);
        }
        // Bodies no line refers to (a crash between rename and append): reclaimed.
        foreach (var path in Directory.EnumerateFiles(_content, "*", SearchOption.AllDirectories))
            if (!_contents.ContainsKey(Path.GetFileName(path))) TryDelete(path);
    }

    private async Task EvictLoopAsync()
    {
        try
        {
            while (true)
            {
                await _evictSignal.WaitAsync(_stop.Token).ConfigureAwait(false);
                var evicted = 0;
                // Down to 90% of the bound, least recently used keys first.
                while (TotalBytes > _maxBytes * 9 / 10)
                {
                    string? victim;
                    lock (_gate) victim = _buckets.Count == 0 ? null : _buckets.MinBy(b => b.Value.LastUsed).Key;
                    if (victim is null) break;
                    lock (_gate)
                    {
                        if (!_buckets.TryGetValue(victim, out var bucket)) continue;
                        TryDelete(victim);
                        Track(victim, [], bucket.Hashes);
                    }
                    evicted++;
                }
                if (evicted > 0) Evicted?.Invoke(evicted);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _evictor.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
    }

    private sealed class Bucket
    {
        public long Bytes;
        public long LastUsed;
        public HashSet<string> Hashes = [];
        public List<IndexEntry> Entries = [];
    }
}
