// One owner per storage dir. Two sidecars on one folder would each recover the other's running jobs as
// "interrupted by restart", both schedulers would fire every schedule and their files would collide, so
// the host takes an exclusive flock(2) on <storage-dir>/hoody-curl.lock before anything touches the
// database, and holds it for the life of the process (the kernel drops it when the process dies, even
// on SIGKILL: no stale lock to clean up). The holder's PID is written into the file so a second
// instance can say who owns the folder.
//
// Raw open/flock instead of FileStream: .NET takes its own advisory flock on every FileStream it
// opens (LOCK_SH even for readers), which would stop the loser from reading the holder's PID.
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace HoodyCurl.Kernel.Db;

public sealed partial class StorageLock : IDisposable
{
    /// <summary>The lock file's name inside the storage directory.</summary>
    public const string FileName = "hoody-curl.lock";

    private const int O_RDWR = 0x2, O_CREAT = 0x40, O_CLOEXEC = 0x80000;
    private const int LOCK_EX = 2, LOCK_NB = 4;
    private const int EWOULDBLOCK = 11, EACCES = 13, EROFS = 30, ENOTDIR = 20, ENOSPC = 28;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly SafeFileHandle _handle;

    private StorageLock(SafeFileHandle handle, string path)
    {
        _handle = handle;
        FilePath = path;
    }

    /// <summary>The absolute path of the lock file.</summary>
    public string FilePath { get; }

    /// <summary>
    /// Checks <paramref name="storageDir"/> (an absolute path), creates it (mode 0700) when only its last
    /// segment is missing, and takes the exclusive lock. Throws <see cref="StartupException"/> with a
    /// one-line reason when the folder cannot be used or another process holds it.
    /// </summary>
    public static StorageLock Acquire(string storageDir)
    {
        if (File.Exists(storageDir)) throw new StartupException("storage dir is a file, not a folder", storageDir);
        if (!Directory.Exists(storageDir))
        {
            var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(storageDir));
            if (parent is not null && !Directory.Exists(parent))
                throw new StartupException("the storage dir's parent folder does not exist (create it first)", storageDir);
            try
            {
                if (OperatingSystem.IsWindows()) Directory.CreateDirectory(storageDir);
                else Directory.CreateDirectory(storageDir, OwnerOnlyDirectory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StartupException("cannot create the storage dir: " + Reason(e), storageDir, e);
            }
        }

        var path = Path.Combine(storageDir, FileName);
        var fd = Open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x180 /* 0600 */);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var what = errno switch
            {
                EACCES or EROFS => "storage dir is not writable",
                ENOTDIR => "storage dir is not a folder",
                ENOSPC => "no space left in the storage dir",
                _ => "cannot open the storage dir's lock file: " + Marshal.GetPInvokeErrorMessage(errno),
            };
            throw new StartupException(what, storageDir);
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (Flock(fd, LOCK_EX | LOCK_NB) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EWOULDBLOCK)
                {
                    var holder = ReadPid(handle);
                    throw new StartupException(
                        $"storage dir is in use by another hoody-curl (pid {(holder is null ? "unknown" : holder.Value.ToString(CultureInfo.InvariantCulture))}); give each instance its own --storage-dir",
                        storageDir);
                }
                throw new StartupException("cannot lock the storage dir: " + Marshal.GetPInvokeErrorMessage(errno), storageDir);
            }
            var pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            try
            {
                RandomAccess.SetLength(handle, 0);
                RandomAccess.Write(handle, pid, 0);
            }
            catch (IOException e)
            {
                throw new StartupException("storage dir is not writable: " + Reason(e), storageDir, e);
            }
            return new StorageLock(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Releases the lock (closing the file drops the flock).</summary>
    public void Dispose() => _handle.Dispose();

    private static int? ReadPid(SafeFileHandle handle)
    {
        try
        {
            var buffer = new byte[32];
            var read = RandomAccess.Read(handle, buffer, 0);
            return int.TryParse(Encoding.ASCII.GetString(buffer, 0, read).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string Reason(Exception e) => e is UnauthorizedAccessException ? "permission denied" : e.Message;

    [LibraryImport("libc.so.6", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);
}
