// Turns a CurlRequest into libcurl options on a fresh, reset or warm (pooled after a plain GET) easy handle. Every option number is
// named in Native/CurlConstants.cs. Strings are copied by libcurl (all but POSTFIELDS, for which we
// use COPYPOSTFIELDS); the header slist and the mime tree live until the transfer ends.
using System.Text;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Native;

namespace HoodyCurl.Requests.Engine;

internal static unsafe class TransferSetup
{
    public static void Apply(Transfer t, RequestsOptions options, nint resolveList)
    {
        var easy = t.Easy;
        var r = t.Request;
        t.MaxResponseHeaderCount = options.MaxResponseHeaderCount;
        t.MaxResponseHeaderBytes = options.MaxResponseHeaderBytes;
        // What every transfer on a handle shares is set once per handle: a pooled handle that ran a plain GET keeps it
        // (HandlePool.Put).
        if (!t.HandleWarm) ApplyPerHandle(easy, t.Loop, resolveList);
        var dirty = false;
        // Any option beyond those every request sets (the plain LibCurl calls here) marks the handle, which is then
        // reset before it serves another request (HandlePool.Put).
        void Option(int option, long value) { dirty = true; LibCurl.SetLong(easy, option, value); }
        void Text(int option, string value) { dirty = true; LibCurl.SetString(easy, option, value); }
        void Pointer(int option, nint value) { dirty = true; LibCurl.SetPtr(easy, option, value); }
        // A URL seen before comes parsed, with its normalised text: libcurl then copies it instead of parsing and printing
        // it (UrlCache, issue 13). The handle is cleared when the easy handle goes back to the pool (HandlePool.Put).
        if (t.Loop.Urls.Acquire(r.Url) is { } parsed)
        {
            t.ParsedUrl = parsed;
            LibCurl.SetPtr(easy, CurlOpt.CURLU, parsed.Handle);
            Check(LibCurl.SetPtr(easy, CurlOpt.URL, parsed.Text), "url");
        }
        else Check(LibCurl.SetString(easy, CurlOpt.URL, r.Url), "url");
        if (t.Proxy is not null)
        {
            Text(CurlOpt.PROXY, t.Proxy.Url);
            Pointer(CurlOpt.PREREQFUNCTION, Callbacks.Prereq);
            Pointer(CurlOpt.PREREQDATA, t.UserData);
        }

        t.ErrorBuffer = (nint)System.Runtime.InteropServices.NativeMemory.AllocZeroed(CurlConst.ERROR_SIZE);
        LibCurl.SetPtr(easy, CurlOpt.ERRORBUFFER, t.ErrorBuffer);
        LibCurl.SetPtr(easy, CurlOpt.WRITEDATA, t.UserData);
        LibCurl.SetPtr(easy, CurlOpt.HEADERDATA, t.UserData);
        LibCurl.SetPtr(easy, CurlOpt.OPENSOCKETDATA, t.UserData);

        // Timeouts (docs/api.md, D6): seconds in the API, milliseconds to libcurl.
        var timeout = r.Timeout ?? (t.Options.IsAsync ? options.DefaultAsyncTimeoutSecs : options.DefaultTimeoutSecs);
        LibCurl.SetLong(easy, CurlOpt.TIMEOUT_MS, Math.Min(timeout, options.Limits.MaxTimeoutSecs) * 1000L);
        if (r.ConnectTimeout is { } connect) Option(CurlOpt.CONNECTTIMEOUT_MS, connect * 1000L);

        var follow = r.FollowRedirects ?? true;
        LibCurl.SetLong(easy, CurlOpt.FOLLOWLOCATION, follow ? 1 : 0);
        LibCurl.SetLong(easy, CurlOpt.MAXREDIRS, r.MaxRedirects ?? 10);
        if (r.MaxFilesize is { } maxFile) Option(CurlOpt.MAXFILESIZE_LARGE, maxFile);
        if (r.Insecure == true)
        {
            Option(CurlOpt.SSL_VERIFYPEER, 0);
            Option(CurlOpt.SSL_VERIFYHOST, 0);
        }
        if (r.CertType is { } certType) Text(CurlOpt.SSLCERTTYPE, certType);
        if (r.Compressed == true) Text(CurlOpt.ACCEPT_ENCODING, "");
        if (r.TcpNodelay is { } nodelay) Option(CurlOpt.TCP_NODELAY, nodelay ? 1 : 0);
        if (r.Keepalive is { } keepalive) Option(CurlOpt.TCP_KEEPALIVE, keepalive ? 1 : 0);
        if (r.KeepaliveTime is { } idle)
        {
            Option(CurlOpt.TCP_KEEPALIVE, 1);
            Option(CurlOpt.TCP_KEEPIDLE, idle);
            Option(CurlOpt.TCP_KEEPINTVL, idle);
        }
        if (r.Range is { } range) Text(CurlOpt.RANGE, range);
        if (r.SpeedLimit is { } speedLimit)
        {
            Option(CurlOpt.LOW_SPEED_LIMIT, speedLimit);
            Option(CurlOpt.LOW_SPEED_TIME, r.SpeedTime ?? 30);
        }
        else if (r.SpeedTime is { } speedTime)
        {
            Option(CurlOpt.LOW_SPEED_LIMIT, 1);
            Option(CurlOpt.LOW_SPEED_TIME, speedTime);
        }

        // The default User-Agent goes in the header list (ApplyHeaders), except through a proxy: libcurl sends the option,
        // not the list, in a CONNECT. A caller's own marks the handle for a reset.
        if (r.UserAgent is { } userAgent) Text(CurlOpt.USERAGENT, userAgent);
        else if (t.Proxy is not null) Text(CurlOpt.USERAGENT, options.DefaultUserAgent);
        if (r.Referer is { } referer) Text(CurlOpt.REFERER, referer);
        if (r.Cookie is { } cookie) Text(CurlOpt.COOKIE, cookie);
        if (r.AuthUser is { } user)
        {
            Text(CurlOpt.USERNAME, user);
            Text(CurlOpt.PASSWORD, r.AuthPassword ?? "");
            Option(CurlOpt.HTTPAUTH, r.AuthMethod switch
            {
                AuthMethod.Digest => CurlAuth.DIGEST,
                AuthMethod.Ntlm => CurlAuth.NTLM,
                AuthMethod.Negotiate => CurlAuth.NEGOTIATE,
                _ => CurlAuth.BASIC,
            });
        }

        if (t.Options.LoadCookies is { } cookies)
        {
            Text(CurlOpt.COOKIEFILE, ""); // switch the cookie engine on
            foreach (var line in cookies) Text(CurlOpt.COOKIELIST, line);
        }
        else if (t.Options.CaptureCookies)
        {
            Text(CurlOpt.COOKIEFILE, "");
        }

        if (!ApplyMethodAndBody(t, easy, r)) dirty = true;
        ApplyHeaders(t, easy, r, options);
        t.HandleDirty = dirty;
    }

    /// <summary>
    /// The options every transfer on a handle shares, set on a new or reset handle only: the protocols, no proxy from
    /// the environment, the share and resolve lists, the buffer, the callbacks and the loop's close-socket data.
    /// </summary>
    private static void ApplyPerHandle(nint easy, TransferLoop loop, nint resolveList)
    {
        LibCurl.SetLong(easy, CurlOpt.NOSIGNAL, 1);
        LibCurl.SetString(easy, CurlOpt.PROTOCOLS_STR, "http,https");
        LibCurl.SetString(easy, CurlOpt.REDIR_PROTOCOLS_STR, "http,https");
        // Never a proxy from http_proxy/https_proxy/ALL_PROXY/NO_PROXY: the SSRF check at the connect would see the
        // proxy, not the target. "" disables the environment's proxy and NOPROXY "" its exceptions. A request through
        // --proxy sets its own (and its handle is reset afterwards).
        LibCurl.SetString(easy, CurlOpt.PROXY, "");
        LibCurl.SetString(easy, CurlOpt.NOPROXY, "");
        LibCurl.SetPtr(easy, CurlOpt.SHARE, CurlShare.Handle);
        // libcurl loads the list into the shared DNS cache on the handle's next transfer, as permanent entries.
        if (resolveList != 0) LibCurl.SetPtr(easy, CurlOpt.RESOLVE, resolveList);
        LibCurl.SetLong(easy, CurlOpt.BUFFERSIZE, 64 * 1024);
        LibCurl.SetPtr(easy, CurlOpt.WRITEFUNCTION, Callbacks.Write);
        LibCurl.SetPtr(easy, CurlOpt.HEADERFUNCTION, Callbacks.Header);
        LibCurl.SetPtr(easy, CurlOpt.OPENSOCKETFUNCTION, Callbacks.OpenSocket);
        LibCurl.SetPtr(easy, CurlOpt.CLOSESOCKETFUNCTION, TransferLoop.CloseSocketCallback);
        LibCurl.SetPtr(easy, CurlOpt.CLOSESOCKETDATA, loop.CallbackData);
    }

    /// <summary>Sets the method and body; true for a plain GET (HTTPGET, which the next request on the handle sets again).</summary>
    private static bool ApplyMethodAndBody(Transfer t, nint easy, CurlRequest r)
    {
        var method = r.EffectiveMethod;
        byte[]? body = r.DataBytes ?? (r.Json is { } json ? Encoding.UTF8.GetBytes(json) : r.Data is { } data ? Encoding.UTF8.GetBytes(data) : null);
        if (method == "HEAD")
        {
            LibCurl.SetLong(easy, CurlOpt.NOBODY, 1);
            return false;
        }
        if (r.Form is { } form)
        {
            var mime = LibCurl.curl_mime_init(easy);
            t.Mime = mime;
            foreach (var field in form)
            {
                var part = LibCurl.curl_mime_addpart(mime);
                LibCurl.curl_mime_name(part, field.Name);
                var bytes = Encoding.UTF8.GetBytes(field.Value);
                fixed (byte* p = bytes) LibCurl.curl_mime_data(part, p, (nuint)bytes.Length); // copied by libcurl
            }
            LibCurl.SetPtr(easy, CurlOpt.MIMEPOST, mime);
            if (method != "POST") LibCurl.SetString(easy, CurlOpt.CUSTOMREQUEST, method);
            return false;
        }
        if (t.Options.UploadBody is not null)
        {
            // Streamed upload: libcurl pulls the bytes through the read callback (Transfer.OnRead).
            LibCurl.SetLong(easy, CurlOpt.POST, 1);
            LibCurl.SetPtr(easy, CurlOpt.READFUNCTION, Callbacks.Read);
            LibCurl.SetPtr(easy, CurlOpt.READDATA, t.UserData);
            LibCurl.SetLong(easy, CurlOpt.POSTFIELDSIZE_LARGE, t.Options.UploadLength ?? -1);
            if (method != "POST") LibCurl.SetString(easy, CurlOpt.CUSTOMREQUEST, method);
            return false;
        }
        if (body is not null)
        {
            LibCurl.SetLong(easy, CurlOpt.POSTFIELDSIZE_LARGE, body.Length);
            if (body.Length == 0) LibCurl.SetString(easy, CurlOpt.COPYPOSTFIELDS, "");
            else fixed (byte* p = body) LibCurl.SetPtr(easy, CurlOpt.COPYPOSTFIELDS, (nint)p);
            if (method != "POST") LibCurl.SetString(easy, CurlOpt.CUSTOMREQUEST, method);
            return false;
        }
        switch (method)
        {
            case "GET":
                LibCurl.SetLong(easy, CurlOpt.HTTPGET, 1);
                return true;
            case "POST":
                LibCurl.SetLong(easy, CurlOpt.POST, 1);
                LibCurl.SetLong(easy, CurlOpt.POSTFIELDSIZE_LARGE, 0);
                return false;
            default:
                LibCurl.SetString(easy, CurlOpt.CUSTOMREQUEST, method);
                return false;
        }
    }

    /// <summary>Whether the caller sent a header, by name, ignoring case: a scan of the caller's few headers instead of a
    /// set built per request (a HashSet allocated for every request, none or few headers in most; issue 13).</summary>
    private readonly struct CallerHeaderNames(IReadOnlyList<HeaderEntry>? headers)
    {
        public bool Contains(string name)
        {
            if (headers is null) return false;
            for (var i = 0; i < headers.Count; i++)
                if (headers[i].Name.Equals(name, StringComparison.OrdinalIgnoreCase)) return true;
            return false;
        }
    }

    /// <summary>
    /// The header list of a request that adds no header of its own: only "Expect:" (no 100-continue). libcurl only reads
    /// a list, so one built at start serves every such transfer on every thread; building and freeing it per request was
    /// two mallocs and two frees (issue 13). Never freed (it lives as long as the process).
    /// </summary>
    private static readonly nint ExpectOnly = LibCurl.curl_slist_append(0, "Expect:");

    /// <summary>A `json` body of the caller's own (not raw bytes): it goes with a Content-Type unless the caller set one.</summary>
    private static bool SendsJson(CurlRequest r) => r.Json is not null && r.DataBytes is null;

    /// <summary>The header line of the default User-Agent.</summary>
    internal static string UserAgentLine(string userAgent) => "User-Agent: " + userAgent;

    /// <summary>
    /// The caller's headers, a JSON body's Content-Type, a bearer token, the default User-Agent and "Expect:" (no
    /// 100-continue). The default User-Agent is a list entry rather than CURLOPT_USERAGENT: libcurl 7.88 prints that option
    /// into a header line for every transfer and then prints the line again into the request, one call per character;
    /// a list entry is printed once (~3.5k of ~160k instructions per relayed 1 KiB request, callgrind, issue 13).
    /// </summary>
    private static void ApplyHeaders(Transfer t, nint easy, CurlRequest r, RequestsOptions options)
    {
        var patterns = options.RedirectStripHeaders;
        var names = new CallerHeaderNames(r.Headers);
        // The default User-Agent, unless the caller chose one (the user_agent field, or a User-Agent header) or a proxy
        // carries it as the option (Apply).
        var defaultAgent = r.UserAgent is null && t.Proxy is null && !names.Contains("User-Agent") ? options.DefaultUserAgent : null;
        if ((r.Headers is null || r.Headers.Count == 0) && !SendsJson(r) && r.BearerToken is null)
        {
            // Shared lists: nothing to free when the transfer ends.
            var shared = defaultAgent is not null ? t.Loop.DefaultHeaders : ExpectOnly;
            if (shared != 0)
            {
                t.HeaderList = 0;
                LibCurl.SetPtr(easy, CurlOpt.HTTPHEADER, shared);
                ApplyStrippedHeaders(t, r, patterns, names, defaultAgent);
                return;
            }
        }
        nint list = 0;
        if (r.Headers is { } headers)
        {
            foreach (var h in headers)
            {
                // "Name:" with an empty value would remove a header in libcurl; "Name;" sends it empty.
                list = LibCurl.curl_slist_append(list, h.Value.Length == 0 ? h.Name + ";" : h.Name + ": " + h.Value);
            }
        }
        if (SendsJson(r) && !names.Contains("Content-Type"))
            list = LibCurl.curl_slist_append(list, "Content-Type: application/json");
        if (r.BearerToken is { } token && !names.Contains("Authorization"))
            list = LibCurl.curl_slist_append(list, "Authorization: Bearer " + token);
        if (defaultAgent is not null) list = LibCurl.curl_slist_append(list, UserAgentLine(defaultAgent));
        // No 100-continue round trip for large bodies: callers expect one request, one response.
        if (!names.Contains("Expect")) list = LibCurl.curl_slist_append(list, "Expect:");
        t.HeaderList = list;
        LibCurl.SetPtr(easy, CurlOpt.HTTPHEADER, list);
        ApplyStrippedHeaders(t, r, patterns, names, defaultAgent);
    }

    private static void ApplyStrippedHeaders(Transfer t, CurlRequest r, IReadOnlyList<string> patterns, CallerHeaderNames names, string? defaultAgent)
    {
        // The list a cross-origin redirect switches to (RedirectSecrets): the same minus every secret.
        if (r.FollowRedirects != false && RedirectSecrets.HasSecrets(r, patterns))
        {
            nint stripped = 0;
            foreach (var h in r.Headers ?? [])
            {
                if (RedirectSecrets.IsSecret(h.Name, patterns)) continue;
                stripped = LibCurl.curl_slist_append(stripped, h.Value.Length == 0 ? h.Name + ";" : h.Name + ": " + h.Value);
            }
            if (SendsJson(r) && !names.Contains("Content-Type"))
                stripped = LibCurl.curl_slist_append(stripped, "Content-Type: application/json");
            if (defaultAgent is not null) stripped = LibCurl.curl_slist_append(stripped, UserAgentLine(defaultAgent));
            stripped = LibCurl.curl_slist_append(stripped, "Expect:");
            t.StrippedHeaderList = stripped;
        }
    }

    private static void Check(int code, string what)
    {
        if (code != CurlCode.OK) throw new InvalidOperationException($"libcurl refused option {what}: {LibCurl.StrError(code)}");
    }
}
