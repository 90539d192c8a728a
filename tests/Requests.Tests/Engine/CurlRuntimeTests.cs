// libcurl's process-wide set-up: GnuTLS (pulled in by librtmp, never used: libcurl's TLS is OpenSSL) is told through
// libc's environment to skip its load-time initialisation, unless the operator set the variable already.
using System.Runtime.InteropServices;
using HoodyCurl.Requests.Engine;

namespace HoodyCurl.Requests.Tests.Engine;

public partial class CurlRuntimeTests
{
    /// <summary>libc's own view of the environment (the runtime keeps a copy of its own).</summary>
    [LibraryImport("libc.so.6", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LibcGetenv(string name);

    [Test]
    public async Task Libcurls_load_runs_with_GnuTLS_implicit_initialisation_switched_off()
    {
        CurlRuntime.EnsureInitialized();
        var value = Marshal.PtrToStringUTF8(LibcGetenv(CurlRuntime.GnuTlsNoImplicitInit));
        // "1" from CurlRuntime, or whatever the environment of the test run gave (an operator's value is kept).
        var expected = Environment.GetEnvironmentVariable(CurlRuntime.GnuTlsNoImplicitInit) ?? "1";
        await Assert.That(value).IsEqualTo(expected);
    }

    [Test]
    public async Task libcurl_still_initialises_and_reports_its_OpenSSL()
    {
        CurlRuntime.EnsureInitialized();
        await Assert.That(CurlRuntime.Version).StartsWith("libcurl/");
        await Assert.That(CurlRuntime.Version).Contains("OpenSSL");
    }
}
