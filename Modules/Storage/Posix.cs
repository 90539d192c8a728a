// The few POSIX calls .NET does not offer: link(2) for the hard-linked mirrors, realpath(3) to prove a
// path does not leave the downloads root through a symlink.
using System.Runtime.InteropServices;

namespace HoodyCurl.Storage;

internal static unsafe partial class Posix
{
    public const int EXDEV = 18;

    /// <summary>link(2). Throws IOException whose HResult is the errno.</summary>
    public static void HardLink(string existing, string newPath)
    {
        if (Link(existing, newPath) == 0) return;
        var errno = Marshal.GetLastPInvokeError();
        throw new IOException($"cannot link {newPath}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    /// <summary>realpath(3): the absolute path with every symlink resolved, or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var resolved = RealPathNative(path, 0);
        if (resolved == 0) return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            NativeMemory.Free((void*)resolved); // realpath mallocs the result
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string newPath);

    [LibraryImport("libc.so.6", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint RealPathNative(string path, nint resolved);
}
