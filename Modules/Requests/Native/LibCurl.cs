// Our thin libcurl binding: source-generated LibraryImport against the system libcurl.so.4.
// curl_easy_setopt / curl_multi_setopt / curl_share_setopt / curl_easy_getinfo are variadic: we bind
// one overload per argument kind (long, pointer, off_t), which is safe on x64 Linux; never a double.
using System.Runtime.InteropServices;

namespace HoodyCurl.Requests.Native;

internal static unsafe partial class LibCurl
{
    private const string Lib = "libcurl.so.4";

    [LibraryImport(Lib)] public static partial int curl_global_init(long flags);
    [LibraryImport(Lib)] public static partial nint curl_version();

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

    [LibraryImport(Lib)] public static partial nint curl_multi_init();
    [LibraryImport(Lib)] public static partial int curl_multi_cleanup(nint multi);
    [LibraryImport(Lib)] public static partial int curl_multi_add_handle(nint multi, nint easy);
    [LibraryImport(Lib)] public static partial int curl_multi_remove_handle(nint multi, nint easy);
    [LibraryImport(Lib)] public static partial int curl_multi_perform(nint multi, out int runningHandles);
    [LibraryImport(Lib)] public static partial int curl_multi_poll(nint multi, nint extraFds, uint extraNfds, int timeoutMs, out int numFds);
    [LibraryImport(Lib)] public static partial int curl_multi_wakeup(nint multi);
    [LibraryImport(Lib)] public static partial CurlMsg* curl_multi_info_read(nint multi, out int msgsInQueue);

    [LibraryImport(Lib)] public static partial nint curl_share_init();
    [LibraryImport(Lib, EntryPoint = "curl_share_setopt")] public static partial int ShareSetLong(nint share, int option, long value);
    [LibraryImport(Lib, EntryPoint = "curl_share_setopt")] public static partial int ShareSetPtr(nint share, int option, nint value);

    public static string StrError(int code) => Marshal.PtrToStringUTF8(curl_easy_strerror(code)) ?? $"curl error {code}";

    public static string? GetString(nint easy, int info) =>
        GetPtr(easy, info, out var p) == 0 && p != 0 ? Marshal.PtrToStringUTF8(p) : null;

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

/// <summary>The few libc calls the engine needs (creating the socket libcurl asks for).</summary>
internal static partial class LibC
{
    [LibraryImport("libc", SetLastError = true)] public static partial int socket(int domain, int type, int protocol);
}
