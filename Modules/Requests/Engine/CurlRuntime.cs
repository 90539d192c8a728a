// libcurl's process-wide set-up. Loading libcurl and its TLS, LDAP and SASL dependencies and running
// curl_global_init takes tens of milliseconds; Preload starts it on a background thread at process
// start so it overlaps with the host's own start-up instead of delaying the first /health.
using HoodyCurl.Requests.Native;

namespace HoodyCurl.Requests.Engine;

public static class CurlRuntime
{
    private static readonly Lazy<Task> Init = new(() => Task.Factory.StartNew(Initialize, TaskCreationOptions.LongRunning));

    /// <summary>libcurl's version text (curl_version), read on the background thread: building it initialises
    /// libldap, which reads its configuration and loads SASL plugins — tens of milliseconds.</summary>
    public static string Version { get; private set; } = "libcurl";

    /// <summary>Starts loading and initialising libcurl in the background (idempotent).</summary>
    public static void Preload() => _ = Init.Value;

    /// <summary>Blocks until libcurl is initialised; throws if curl_global_init failed.</summary>
    internal static void EnsureInitialized() => Init.Value.GetAwaiter().GetResult();

    private static void Initialize()
    {
        var code = LibCurl.curl_global_init(CurlConst.GLOBAL_ALL);
        if (code != 0) throw new InvalidOperationException($"curl_global_init failed: {code}");
        _ = CurlShare.Handle;
        Version = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(LibCurl.curl_version()) ?? "libcurl";
    }
}
