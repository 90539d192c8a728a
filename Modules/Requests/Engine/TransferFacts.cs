// Reads a finished transfer's timing and metadata with curl_easy_getinfo (the *_T variants: integer
// microseconds and bytes, so no double ever crosses the variadic call).
using System.Runtime.InteropServices;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Native;

namespace HoodyCurl.Requests.Engine;

internal static class TransferFacts
{
    /// <summary>The facts of a finished transfer. Strings equal to the head's (its effective URL and content type) or to
    /// <paramref name="likelyIp"/> are shared rather than read as new strings.</summary>
    public static TransferInfo Read(nint easy, TransferHead? head = null, string? likelyIp = null) => new()
    {
        Total = Seconds(easy, CurlInfo.TOTAL_TIME_T),
        NameLookup = Seconds(easy, CurlInfo.NAMELOOKUP_TIME_T),
        Connect = Seconds(easy, CurlInfo.CONNECT_TIME_T),
        PreTransfer = Seconds(easy, CurlInfo.PRETRANSFER_TIME_T),
        StartTransfer = Seconds(easy, CurlInfo.STARTTRANSFER_TIME_T),
        Redirect = Seconds(easy, CurlInfo.REDIRECT_TIME_T),
        RedirectCount = (int)Long(easy, CurlInfo.REDIRECT_COUNT),
        SizeDownload = Long(easy, CurlInfo.SIZE_DOWNLOAD_T),
        SizeUpload = Long(easy, CurlInfo.SIZE_UPLOAD_T),
        SpeedDownload = Long(easy, CurlInfo.SPEED_DOWNLOAD_T),
        SpeedUpload = Long(easy, CurlInfo.SPEED_UPLOAD_T),
        ContentType = LibCurl.GetString(easy, CurlInfo.CONTENT_TYPE,
            head is null ? null : UpstreamResponse.LastValue(head.Headers, "content-type")),
        EffectiveUrl = LibCurl.GetString(easy, CurlInfo.EFFECTIVE_URL, head?.EffectiveUrl),
        PrimaryIp = LibCurl.GetString(easy, CurlInfo.PRIMARY_IP, likelyIp) is { Length: > 0 } ip ? ip : null,
        StatusCode = (int)Long(easy, CurlInfo.RESPONSE_CODE),
    };

    /// <summary>The cookie engine's contents as Netscape cookie-file lines (CURLINFO_COOKIELIST).</summary>
    public static IReadOnlyList<string> Cookies(nint easy)
    {
        var lines = new List<string>();
        if (LibCurl.GetPtr(easy, CurlInfo.COOKIELIST, out var list) != 0 || list == 0) return lines;
        for (var node = list; node != 0;)
        {
            // struct curl_slist { char *data; struct curl_slist *next; }
            var data = Marshal.ReadIntPtr(node);
            if (Marshal.PtrToStringUTF8(data) is { } line) lines.Add(line);
            node = Marshal.ReadIntPtr(node, IntPtr.Size);
        }
        LibCurl.curl_slist_free_all(list);
        return lines;
    }

    private static long Long(nint easy, int info) => LibCurl.GetLong(easy, info, out var value) == 0 ? value : 0;

    private static double Seconds(nint easy, int info) => Long(easy, info) / 1_000_000.0;
}
