// Our thin libcurl binding: source-generated LibraryImport against the system libcurl.so.4.
// curl_easy_setopt / curl_multi_setopt / curl_share_setopt / curl_easy_getinfo are variadic: we bind
// one overload per argument kind (long, pointer, off_t), which is safe on x64 Linux; never a double.
using System.Runtime.InteropServices;

namespace HoodyCurl.Requests.Native;

internal static unsafe partial class LibCurl
{
    private const string Lib = "libcurl.so.4";

    [LibraryImport(Lib)] public static partial int curl_global_init(long flags);
    [LibraryImport(Lib)] public static partial nint curl_version_info(int age);

    [LibraryImport(Lib)] public static partial nint curl_easy_init();
    [LibraryImport(Lib)] public static partial void curl_easy_cleanup(nint easy);
    [LibraryImport(Lib)] public static partial void curl_easy_reset(nint easy);
    [LibraryImport(Lib)] public static partial int curl_easy_pause(nint easy, int bitmask);
    [LibraryImport(Lib)] public static partial nint curl_easy_strerror(int code);

    [LibraryImport(Lib, EntryPoint = "curl_easy_setopt")] public static partial int SetLong(nint easy, int option, long value);
    [LibraryImport(Lib, EntryPoint = "curl_easy_setopt")] public static partial int SetPtr(nint easy, int option, nint value);
    [LibraryImport(Lib, EntryPoint = "curl_easy_setopt", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetString(nint easy, int option, string? value);

    [LibraryImport(Lib, EntryPoint = "curl_easy_getinfo")] public static partial int GetLong(nint easy, int info, out long value);
    [LibraryImport(Lib, EntryPoint = "curl_easy_getinfo")] public static partial int GetPtr(nint easy, int info, out nint value);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint curl_slist_append(nint list, string value);
    [LibraryImport(Lib)] public static partial void curl_slist_free_all(nint list);

    [LibraryImport(Lib)] public static partial nint curl_mime_init(nint easy);
    [LibraryImport(Lib)] public static partial void curl_mime_free(nint mime);
    [LibraryImport(Lib)] public static partial nint curl_mime_addpart(nint mime);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int curl_mime_name(nint part, string name);
    [LibraryImport(Lib)] public static partial int curl_mime_data(nint part, byte* data, nuint size);

    [LibraryImport(Lib)] public static partial nint curl_url();
    [LibraryImport(Lib)] public static partial void curl_url_cleanup(nint url);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int curl_url_set(nint url, int part, string content, uint flags);
    [LibraryImport(Lib)] public static partial int curl_url_get(nint url, int part, out nint content, uint flags);
    [LibraryImport(Lib)] public static partial void curl_free(nint pointer);

    [LibraryImport(Lib)] public static partial nint curl_multi_init();
    [LibraryImport(Lib)] public static partial int curl_multi_cleanup(nint multi);
    [LibraryImport(Lib)] public static partial int curl_multi_add_handle(nint multi, nint easy);
    [LibraryImport(Lib)] public static partial int curl_multi_remove_handle(nint multi, nint easy);
    [LibraryImport(Lib)] public static partial int curl_multi_socket_action(nint multi, int socket, int eventBitmask, out int runningHandles);
    [LibraryImport(Lib, EntryPoint = "curl_multi_setopt")] public static partial int MultiSetLong(nint multi, int option, long value);
    [LibraryImport(Lib, EntryPoint = "curl_multi_setopt")] public static partial int MultiSetPtr(nint multi, int option, nint value);
    [LibraryImport(Lib)] public static partial CurlMsg* curl_multi_info_read(nint multi, out int msgsInQueue);

    [LibraryImport(Lib)] public static partial nint curl_share_init();
    [LibraryImport(Lib, EntryPoint = "curl_share_setopt")] public static partial int ShareSetLong(nint share, int option, long value);
    [LibraryImport(Lib, EntryPoint = "curl_share_setopt")] public static partial int ShareSetPtr(nint share, int option, nint value);

    public static string StrError(int code) => Marshal.PtrToStringUTF8(curl_easy_strerror(code)) ?? $"curl error {code}";

    /// <summary>
    /// A string option's value, as <paramref name="likely"/> itself when its text is the same (no new string): the
    /// effective URL is the request's URL, the content type the head's, nearly always (each read as a new string was
    /// ~370 of ~6,000 bytes allocated per relayed request, issue 13).
    /// </summary>
    public static string? GetString(nint easy, int info, string? likely = null)
    {
        if (GetPtr(easy, info, out var p) != 0 || p == 0) return null;
        var bytes = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)p);
        if (likely is not null && System.Text.Ascii.Equals(bytes, likely)) return likely;
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>CURLMsg: { CURLMSG msg; CURL *easy_handle; union { void *whatever; CURLcode result; } data; }.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CurlMsg
    {
        public int Msg;
        public nint EasyHandle;
        public nint Data;
        public int Result => (int)Data;
    }
}

/// <summary>
/// The few libc calls the engine needs: the socket libcurl asks for, and the epoll loop that drives
/// curl_multi_socket_action. Bound to "libc.so.6" by its exact name: "libc" made the runtime probe ~70
/// file names (failed openat calls at start, issue 13).
/// </summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc.so.6";
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int EINTR = 4;

    [LibraryImport(Lib, SetLastError = true)] public static partial int socket(int domain, int type, int protocol);
    [LibraryImport(Lib, SetLastError = true)] public static partial int epoll_create1(int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);
    [LibraryImport(Lib, SetLastError = true)] public static partial int epoll_wait(int epfd, EpollEvent* events, int maxEvents, int timeoutMs);
    [LibraryImport(Lib, SetLastError = true)] public static partial int eventfd(uint initval, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint read(int fd, void* buffer, nuint count);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint write(int fd, void* buffer, nuint count);
    [LibraryImport(Lib)] public static partial int close(int fd);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int setenv(string name, string value, int overwrite);

    /// <summary>struct epoll_event, packed on x86-64 (12 bytes): uint32 events; uint64 data.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }
}
