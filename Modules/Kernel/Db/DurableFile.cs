// Files that must survive a crash whole or not at all (job bodies, saved downloads): written under a
// temporary name, fsynced, renamed over the real name, then the directory is fsynced so the rename
// itself is on disk. A kill -9 or power cut at any moment leaves either the old file or the new one.
using System.Runtime.InteropServices;

namespace HoodyCurl.Kernel.Db;

public static partial class DurableFile
{
    /// <summary>Owner read/write only: stored bodies may hold secrets (docs/api.md D9).</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Owner-only directory mode (0700).</summary>
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The temporary name a file is written under before <see cref="Commit"/>.</summary>
    public static string TempPathFor(string path) => path + ".tmp";

    /// <summary>Creates <paramref name="directory"/> (and parents) with mode 0700 when missing.</summary>
    public static void CreateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else Directory.CreateDirectory(directory, OwnerOnlyDirectory);
    }

    /// <summary>
    /// Opens <see cref="TempPathFor"/>(<paramref name="path"/>) for writing, truncating any leftover,
    /// with mode 0600. Write, then call <see cref="Commit"/>.
    /// </summary>
    public static FileStream CreateTemp(string path)
    {
        // A leftover (or a planted symlink) is removed, then the file is created with O_EXCL, which never
        // follows a symlink: nothing is written through a link to somewhere else.
        File.Delete(TempPathFor(path));
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnly;
        return new FileStream(TempPathFor(path), options);
    }

    /// <summary>
    /// Flushes <paramref name="temp"/> to disk, closes it, renames it over <paramref name="path"/> and
    /// fsyncs the directory.
    /// </summary>
    public static void Commit(FileStream temp, string path)
    {
        temp.Flush(flushToDisk: true);
        var tempPath = temp.Name;
        temp.Dispose();
        File.Move(tempPath, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>fsync(2) on a directory so renames and creations in it are durable. No-op off Unix.</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(directory, ORdOnly); // a directory opens read-only without O_DIRECTORY
        if (fd < 0) throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading with O_NOFOLLOW: a symlink in its place is refused
    /// (IOException), never followed. FileNotFoundException when it does not exist.
    /// </summary>
    public static FileStream OpenReadNoFollow(string path)
    {
        if (OperatingSystem.IsWindows()) return File.OpenRead(path);
        var fd = Open(path, ORdOnly | ONoFollow | OCloExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENoEnt) throw new FileNotFoundException($"{path} does not exist", path);
            throw new IOException(errno == ELoop ? $"{path} is a symlink: refused" : $"cannot open {path} (errno {errno})", errno);
        }
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 0);
    }

    /// <summary>True when <paramref name="path"/> exists and is a symlink (checked without following it).</summary>
    public static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    private const int ORdOnly = 0;
    private const int ONoFollow = 0x20000; // Linux x86-64/arm64 O_NOFOLLOW
    private const int OCloExec = 0x80000;
    private const int ENoEnt = 2;
    private const int ELoop = 40;

    [LibraryImport("libc.so.6", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc.so.6", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
