// libcurl's process-wide set-up. Loading libcurl and its TLS, LDAP and SASL dependencies and running
// curl_global_init takes tens of milliseconds; Preload starts it on a background thread at process
// start so it overlaps with the host's own start-up instead of delaying the first /health.
using HoodyCurl.Requests.Native;

namespace HoodyCurl.Requests.Engine;

public static class CurlRuntime
{
    private static readonly Lazy<Task> Init = new(() =>
    {
        SkipGnuTlsImplicitInit();
        return Task.Factory.StartNew(Initialize, TaskCreationOptions.LongRunning);
    });

    /// <summary>
    /// Debian's libcurl4 links librtmp, and through it GnuTLS, whose load-time constructor initialises the whole
    /// library (its ASN.1 tables, its crypto back-ends) although libcurl's TLS is OpenSSL and RTMP is never allowed
    /// (http and https only). GNUTLS_NO_IMPLICIT_INIT skips that constructor; a GnuTLS user that needs the library
    /// (librtmp, libldap) calls gnutls_global_init itself. Measured on the published binary: idle RSS -0.83 MiB; start-up
    /// the same within noise (bench/RESULTS.md, issue 13). Set through libc (the runtime keeps its own copy of the
    /// environment) on the thread that starts the load, before libcurl is loaded and before other native code
    /// (SQLite) runs beside it; an operator's own value is kept.
    /// </summary>
    private static void SkipGnuTlsImplicitInit() => LibC.setenv(GnuTlsNoImplicitInit, "1", overwrite: 0);

    internal const string GnuTlsNoImplicitInit = "GNUTLS_NO_IMPLICIT_INIT";

    /// <summary>libcurl's version and its TLS and zlib versions, from curl_version_info: curl_version() also names
    /// the LDAP library, which initialises libldap (its configuration, SASL plugins: ~5 ms and ~1 MiB, issue 13).</summary>
    public static string Version { get; private set; } = "libcurl";

    /// <summary>Starts loading and initialising libcurl in the background (idempotent).</summary>
    public static void Preload() => _ = Init.Value;

    /// <summary>
    /// Waits (at most 10 s) for a started background load to finish, whatever its outcome: a process must not exit
    /// while another thread is inside dlopen or curl_global_init (issue 15: that raced the exit handlers and crashed).
    /// </summary>
    public static void Settle()
    {
        if (!Init.IsValueCreated) return;
        try
        {
            Init.Value.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // curl_global_init failed: reported where the engine starts, nothing to add on the way out.
        }
    }

    /// <summary>Blocks until libcurl is initialised; throws if curl_global_init failed.</summary>
    internal static void EnsureInitialized() => Init.Value.GetAwaiter().GetResult();

    private static void Initialize()
    {
        var code = LibCurl.curl_global_init(CurlConst.GLOBAL_ALL);
        if (code != 0) throw new InvalidOperationException($"curl_global_init failed: {code}");
        _ = CurlShare.Handle;
        Version = VersionText();
    }

    /// <summary>curl_version_info_data (x64): version at offset 8, ssl_version at 40, libz_version at 56.</summary>
    private static unsafe string VersionText()
    {
        var info = (byte*)LibCurl.curl_version_info(CurlConst.VERSION_NOW);
        if (info == null) return "libcurl";
        static string? At(byte* p) => System.Runtime.InteropServices.Marshal.PtrToStringUTF8(*(nint*)p);
        var text = "libcurl/" + (At(info + 8) ?? "?");
        if (At(info + 40) is { Length: > 0 } ssl) text += " " + ssl;
        if (At(info + 56) is { Length: > 0 } zlib) text += " zlib/" + zlib;
        return text;
    }
}
