// What identifies one version of a content file: device, inode, size, mtime and ctime (nanoseconds), from
// fstat(2)/stat(2), which .NET does not expose. Any write, truncation, replacement, chmod or touch through the
// filesystem changes at least one of them (ctime cannot be set back by a user), so a body whose sha256 was verified
// under one identity is known unchanged while the identity holds (see CacheStore's header comment).
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace HoodyCurl.Cache.Store;

internal readonly partial record struct FileIdentity(ulong Device, ulong Inode, long Size, long MtimeSec, long MtimeNsec, long CtimeSec, long CtimeNsec)
{
    // struct stat of the Linux x86-64 and generic (arm64) ABIs share these offsets: st_dev 0, st_ino 8, st_size 48,
    // st_mtim 88, st_ctim 104; the struct is 144 bytes on x86-64, 128 on arm64 (a 256-byte buffer covers both).
    private const int StatBufferBytes = 256;

    public static unsafe FileIdentity? Of(SafeFileHandle handle)
    {
        var buffer = stackalloc byte[StatBufferBytes];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Fstat((int)handle.DangerousGetHandle(), buffer) == 0 ? Read(buffer) : null;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    public static unsafe FileIdentity? Of(string path)
    {
        var buffer = stackalloc byte[StatBufferBytes];
        return Stat(path, buffer) == 0 ? Read(buffer) : null;
    }

    private static unsafe FileIdentity Read(byte* s) => new(
        *(ulong*)(s + 0), *(ulong*)(s + 8), *(long*)(s + 48), *(long*)(s + 88), *(long*)(s + 96), *(long*)(s + 104), *(long*)(s + 112));

    [LibraryImport("libc.so.6", EntryPoint = "fstat", SetLastError = true)]
    private static unsafe partial int Fstat(int fd, byte* buffer);

    [LibraryImport("libc.so.6", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Stat(string path, byte* buffer);
}
