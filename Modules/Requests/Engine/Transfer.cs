// One attempt of one request on a libcurl easy handle. Created by the executor, configured and driven
// only on its TransferLoop's thread. libcurl calls back into it (header, write, open-socket,
// progress) through a GCHandle passed as userdata.
//
//  caller ──SendAsync──▶ RequestExecutor ──Post──▶ TransferLoop thread ──curl_multi──▶ upstream
//     ▲                                                 │ header cb: collect lines; final head ─▶ Head (TCS)
//     └── PipeReader ◀── bounded Pipe ◀── write cb ◀────┘ pipe full ─▶ CURL_WRITEFUNC_PAUSE,
//                                                          reader drains ─▶ Post(unpause)
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Native;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Engine;

internal sealed class Transfer : ITransferControl
{
    /// <summary>Pipe thresholds: the transfer pauses when this many bytes wait unread.</summary>
    internal const int PauseBytes = 1024 * 1024;
    private const int ResumeBytes = 512 * 1024;

    private readonly TaskCompletionSource<TransferHead> _head = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<TransferResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<HeaderEntry> _headers = new(16);
    private System.Text.StringBuilder? _fold;
    private long _headBytes;
    private bool _redirectSeen;
    private bool _secretsStripped;
    private int _status;
    private bool _headDelivered;
    private bool _paused;
    private long _received;
    private long? _expected;
    private int _curlResult = -1;
    private GCHandle _self;

    public Transfer(CurlRequest request, ExecutionOptions options, TransferLoop loop, SsrfGuard guard, string poolKey, UpstreamProxy? proxy = null)
    {
        Proxy = proxy;
        Request = request;
        Options = options;
        Loop = loop;
        Guard = guard;
        PoolKey = poolKey;
        Pipe = new Pipe(BodyPipeOptions);
    }

    /// <summary>The body pipe's settings: immutable, so one instance serves every transfer.</summary>
    private static readonly PipeOptions BodyPipeOptions = new(
        pool: Kernel.Memory.BlockMemoryPool.Bodies,
        pauseWriterThreshold: PauseBytes, resumeWriterThreshold: ResumeBytes,
        minimumSegmentSize: 16 * 1024, readerScheduler: PipeScheduler.ThreadPool,
        writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);

    public CurlRequest Request { get; }
    public ExecutionOptions Options { get; }
    public TransferLoop Loop { get; }
    public SsrfGuard Guard { get; }
    /// <summary>The --upstream-proxy, or null: then libcurl connects directly and ignores proxy environment variables.</summary>
    public UpstreamProxy? Proxy { get; }
    /// <summary>Set when, under a proxy, a redirect target could not be resolved for the SSRF check.</summary>
    public string? ProxyFailure { get; private set; }
    private HashSet<string>? _checkedOrigins;
    public string PoolKey { get; }
    public Pipe Pipe { get; }
    public nint Easy { get; set; }

    /// <summary>
    /// Whether the transfer set an option (or a pause, or a forbidden reuse) that the next request on its pooled handle
    /// would not overwrite: such a handle is reset (curl_easy_reset) when it goes back to the pool. Set on the loop thread.
    /// </summary>
    public bool HandleDirty { get; set; }

    /// <summary>Whether the handle came from the pool with the per-handle options of TransferSetup already set.</summary>
    public bool HandleWarm { get; set; }

    /// <summary>Whether the transfer waits in its busy loop's queue for room to start (--max-busy-transfers). Loop thread only.</summary>
    public bool WaitingForRoom { get; set; }
    /// <summary>Whether the transfer counts toward its loop's busy limit (running, and young: see TransferLoop.Room). Loop thread only.</summary>
    public bool Young { get; set; }
    /// <summary>The loop's event count when it started the transfer, while <see cref="Young"/>.</summary>
    public long StartedAt { get; set; }
    public nint HeaderList { get; set; }
    /// <summary>The header list without secrets, switched to on a cross-origin redirect (0 when nothing to strip).</summary>
    public nint StrippedHeaderList { get; set; }
    public nint Mime { get; set; }
    /// <summary>The parsed URL set as CURLOPT_CURLU (UrlCache), held until the transfer finishes; null when libcurl parses it.</summary>
    public UrlCache.Entry? ParsedUrl { get; set; }
    public nint ErrorBuffer { get; set; }
    public bool Cancelled { get; private set; }
    /// <summary>
    /// libcurl's CURLcode for the finished transfer (0 = OK), -1 before it finished. CURLE_UNSUPPORTED_PROTOCOL
    /// after a redirect is an SSRF denial: the pre-check let only http and https through, so libcurl refused a
    /// redirect to another scheme (REDIR_PROTOCOLS_STR). Without a redirect it is an answer that is not HTTP
    /// (HTTP/0.9, status 000), which <see cref="TransferLoop"/> reports as 502. Recording it as <see cref="Denial"/> gives it the 403, the metric and the log
    /// line that name the rule, like every other denial.
    /// </summary>
    public int CurlResult
    {
        get => _curlResult;
        set
        {
            _curlResult = value;
            if (value == CurlCode.UNSUPPORTED_PROTOCOL && Denial is null && _redirectSeen)
            {
                var detail = ErrorBuffer != 0 ? Marshal.PtrToStringUTF8(ErrorBuffer) : null;
                Denial = new SsrfVerdict(false, SsrfRules.Scheme, null)
                {
                    Detail = "redirect to a scheme other than http or https" + (string.IsNullOrEmpty(detail) ? "" : ": " + detail),
                };
            }
        }
    }
    public bool Finished { get; private set; }
    /// <summary>Set by the open-socket callback when the guard refused an address.</summary>
    public SsrfVerdict? Denial { get; private set; }
    /// <summary>Most header lines one response head may hold (--max-response-header-count).</summary>
    public int MaxResponseHeaderCount { get; set; } = RequestsOptions.DefaultMaxResponseHeaderCount;
    /// <summary>Most bytes one response head may hold (--max-response-header-bytes).</summary>
    public long MaxResponseHeaderBytes { get; set; } = RequestsOptions.DefaultMaxResponseHeaderBytes;
    /// <summary>Why the header callback refused the response head (a 502), or null.</summary>
    public ApiError? HeadRefusal { get; private set; }
    /// <summary>Set when the write callback refused more bytes than max_filesize.</summary>
    public bool TooLarge { get; private set; }
    /// <summary>Set when the body reader went away (completed the pipe) mid-transfer.</summary>
    public bool ReaderGone { get; private set; }
    public bool HeadDelivered => _headDelivered;
    public Task<TransferHead> Head => _head.Task;
    public Task<TransferResult> Completion => _completion.Task;
    public nint UserData => GCHandle.ToIntPtr(_self);

    public void Pin() => _self = GCHandle.Alloc(this);

    public void Unpin()
    {
        if (_self.IsAllocated) _self.Free();
    }

    public static Transfer FromUserData(nint userData) => (Transfer)GCHandle.FromIntPtr(userData).Target!;

    // ---- header callback (loop thread) ----------------------------------------------------------

    /// <summary>
    /// One header line of a response (libcurl hands them over one by one, interim and redirect heads
    /// included). Linear in the size of the head whatever its shape: a run of obsolete folded lines
    /// (obs-fold) grows one builder instead of re-concatenating the value per line. Returns false to
    /// abort the transfer when one response's head goes past --max-response-header-count lines or
    /// --max-response-header-bytes bytes (502 UPSTREAM_HEADERS_TOO_LARGE).
    /// </summary>
    public bool OnHeaderLine(ReadOnlySpan<byte> line)
    {
        if (_headDelivered) return true; // trailers: ignored
        _headBytes += line.Length;
        if (_headBytes > MaxResponseHeaderBytes)
            return RefuseHead($"the upstream's response head is larger than {MaxResponseHeaderBytes} bytes (--max-response-header-bytes)", Kernel.Errors.ErrorCodes.UpstreamHeadersTooLarge);
        // Parsed on the bytes: only the name and the value become strings (the whole line, its trimmed copy and
        // substrings were five allocations per header line).
        var text = TrimLineEnd(line);
        if (text.StartsWith("HTTP/"u8))
        {
            // A new response (1xx, redirect hop, auth round): start over. The list is only handed out with the final
            // head, so an empty one (the first status line) is kept rather than allocated again.
            if (_headers.Count > 0) _headers = new List<HeaderEntry>(16);
            _fold = null;
            _headBytes = line.Length;
            var space = text.IndexOf((byte)' ');
            _status = space > 0 && text.Length >= space + 4 && System.Buffers.Text.Utf8Parser.TryParse(text.Slice(space + 1, 3), out int s, out var used) && used == 3 ? s : 0;
            return true;
        }
        if (text.Length == 0)
        {
            EndFold();
            // Nobody here asked to switch protocols (callers cannot send Upgrade): the bytes after a 101
            // are not an HTTP response, and the connection is not one to reuse.
            if (_status == 101)
                return RefuseHead("the upstream answered 101 Switching Protocols to a request that did not ask to upgrade", Kernel.Errors.ErrorCodes.UpstreamError);
            if (IsFinalResponse()) DeliverHead();
            else if (_status is >= 300 and < 400)
            {
                _redirectSeen = true;
                StripSecretsIfLeaving();
            }
            return true;
        }
        if (text[0] is (byte)' ' or (byte)'\t' && _headers.Count > 0)
        {
            // Obsolete line folding: the line continues the previous value.
            _fold ??= new System.Text.StringBuilder(_headers[^1].Value);
            _fold.Append(' ').Append(Latin1(TrimOws(text)));
            return true;
        }
        EndFold();
        var colon = text.IndexOf((byte)':');
        if (colon <= 0) return true;
        if (_headers.Count >= MaxResponseHeaderCount)
            return RefuseHead($"the upstream's response has more than {MaxResponseHeaderCount} header lines (--max-response-header-count)", Kernel.Errors.ErrorCodes.UpstreamHeadersTooLarge);
        var known = KnownIndex(TrimOws(text[..colon]));
        var name = known >= 0 ? KnownNames[known] : Latin1(TrimOws(text[..colon]));
        var value = TrimOws(text[(colon + 1)..]);
        _headers.Add(new HeaderEntry(name, known >= 0 ? Loop.HeaderValues.Get(known, value) : Latin1(value)));
        return true;
    }

    /// <summary>
    /// Names most upstreams send, in the spellings they send them (title case from nginx, Apache, Go, Node; lower
    /// case from HTTP/2-era servers): a name that matches one byte for byte shares its string instead of allocating
    /// one per response (issue 13). Any other name is decoded as usual.
    /// </summary>
    private static readonly string[] TitleCaseNames =
    [
        "Server", "Date", "Content-Type", "Content-Length", "Connection", "Last-Modified", "ETag", "Accept-Ranges",
        "Cache-Control", "Expires", "Vary", "Content-Encoding", "Transfer-Encoding", "Keep-Alive", "Location",
        "Set-Cookie", "Age", "Access-Control-Allow-Origin", "X-Powered-By", "X-Request-Id", "Strict-Transport-Security",
    ];

    internal static readonly string[] KnownNames = [.. TitleCaseNames, .. TitleCaseNames.Select(n => n.ToLowerInvariant())];

    /// <summary>The known names by length, each with its bytes and its index in <see cref="KnownNames"/>: a lookup
    /// compares one or two candidates.</summary>
    private static readonly (byte[] Bytes, int Index)[][] KnownByLength = BuildKnownByLength();

    private static (byte[] Bytes, int Index)[][] BuildKnownByLength()
    {
        var longest = KnownNames.Max(n => n.Length);
        var table = new (byte[] Bytes, int Index)[longest + 1][];
        for (var length = 0; length <= longest; length++)
            table[length] = Enumerable.Range(0, KnownNames.Length).Where(i => KnownNames[i].Length == length)
                .Select(i => (System.Text.Encoding.ASCII.GetBytes(KnownNames[i]), i)).ToArray();
        return table;
    }

    /// <summary>The index of a known name spelled exactly so in <see cref="KnownNames"/>, or -1.</summary>
    internal static int KnownIndex(ReadOnlySpan<byte> name)
    {
        if (name.Length < KnownByLength.Length)
        {
            foreach (var (bytes, index) in KnownByLength[name.Length])
                if (name.SequenceEqual(bytes)) return index;
        }
        return -1;
    }

    internal static string HeaderName(ReadOnlySpan<byte> name) => KnownIndex(name) is >= 0 and var i ? KnownNames[i] : Latin1(name);

    /// <summary>
    /// The span without leading and trailing spaces and tabs (HTTP's optional whitespace). Written out: the generic
    /// MemoryExtensions.Trim with a set of two bytes was ~2.4k of ~190k instructions per relayed request at 8 header
    /// lines (callgrind, issue 13).
    /// </summary>
    internal static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> span)
    {
        var start = 0;
        while (start < span.Length && span[start] is (byte)' ' or (byte)'\t') start++;
        var end = span.Length;
        while (end > start && span[end - 1] is (byte)' ' or (byte)'\t') end--;
        return span[start..end];
    }

    /// <summary>The line without its trailing CR and LF bytes.</summary>
    internal static ReadOnlySpan<byte> TrimLineEnd(ReadOnlySpan<byte> line)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] is (byte)'\r' or (byte)'\n') end--;
        return line[..end];
    }

    /// <summary>Header bytes as text, one char per byte (obs-text kept byte-exact for the relay).</summary>
    internal static string Latin1(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? "" : System.Text.Encoding.Latin1.GetString(bytes);

    /// <summary>
    /// Before libcurl follows a redirect that changes scheme, host or port, the secrets go: the header list
    /// is swapped for the stripped one and the `cookie` field is unset. libcurl builds the next hop's request
    /// from these options after this head, and they stay swapped for the rest of the chain.
    /// </summary>
    private void StripSecretsIfLeaving()
    {
        if (_secretsStripped || (StrippedHeaderList == 0 && Request.Cookie is null)) return;
        var location = _headers.FindLast(h => h.Name.Equals("location", StringComparison.OrdinalIgnoreCase))?.Value;
        if (location is null) return;
        var current = LibCurl.GetString(Easy, CurlInfo.EFFECTIVE_URL) ?? Request.Url;
        if (!RedirectSecrets.LeavesOrigin(Request.Url, current, location)) return;
        _secretsStripped = true;
        HandleDirty = true;
        if (StrippedHeaderList != 0) LibCurl.SetPtr(Easy, CurlOpt.HTTPHEADER, StrippedHeaderList);
        if (Request.Cookie is not null) LibCurl.SetString(Easy, CurlOpt.COOKIE, null);
    }

    private void EndFold()
    {
        if (_fold is null) return;
        _headers[^1] = _headers[^1] with { Value = _fold.ToString() };
        _fold = null;
    }

    private bool RefuseHead(string message, string code)
    {
        HeadRefusal = new ApiError(502, code, message);
        ForbidReuse();
        return false;
    }

    /// <summary>
    /// Whether the response whose headers just ended is the one the caller gets. 1xx are interim;
    /// a 3xx with Location is followed when redirects are on; a 401 is retried by libcurl for
    /// challenge-based auth (digest, ntlm, negotiate). Anything else is final. When in doubt the
    /// first body byte or the end of the transfer delivers the head anyway.
    /// </summary>
    private bool IsFinalResponse()
    {
        if (_status is >= 100 and < 200) return false;
        if (_status is >= 300 and < 400 && Request.FollowRedirects != false &&
            _headers.Exists(h => h.Name.Equals("location", StringComparison.OrdinalIgnoreCase))) return false;
        if (_status == 401 && Request.AuthUser is not null && Request.AuthMethod is not (null or AuthMethod.Basic)) return false;
        return true;
    }

    private void DeliverHead()
    {
        if (_headDelivered) return;
        EndFold();
        _headDelivered = true;
        var effectiveUrl = LibCurl.GetString(Easy, CurlInfo.EFFECTIVE_URL, likely: Request.Url) ?? Request.Url;
        var status = _status;
        if (LibCurl.GetLong(Easy, CurlInfo.RESPONSE_CODE, out var code) == 0 && code > 0) status = (int)code;
        if (Request.Compressed != true)
        {
            var length = _headers.FindLast(h => h.Name.Equals("content-length", StringComparison.OrdinalIgnoreCase))?.Value;
            if (long.TryParse(length, out var n) && n >= 0) _expected = n;
        }
        _readyHead = new TransferHead(status, _headers, effectiveUrl);
        Loop.HeadReady(this); // signalled at the end of the loop's turn, with whatever else the turn brought
    }

    private TransferHead? _readyHead;

    /// <summary>The delivered head (null before it, and for a transfer that never had one).</summary>
    public TransferHead? DeliveredHead => _readyHead;

    /// <summary>On the loop thread, at the end of the turn in which the head arrived.</summary>
    public void SignalHead()
    {
        if (_readyHead is { } head) _head.TrySetResult(head);
    }

    // ---- write callback (loop thread) -----------------------------------------------------------

    /// <summary>Unflushed body bytes beyond which the write callback flushes at once instead of at the end of the turn.</summary>
    private const int FlushBytes = 256 * 1024;
    private long _unflushed;
    private bool _flushQueued;

    /// <summary>
    /// Returns the number of bytes taken, CURL_WRITEFUNC_PAUSE, or 0 to abort. The bytes go into the pipe at once
    /// but are flushed (made visible, the reader woken) once per loop turn, or at 256 KiB: per 16 KiB callback,
    /// each flush woke the reader, ~4.7 context switches per MiB relayed (issue 13).
    /// </summary>
    public nuint OnBody(ReadOnlySpan<byte> data)
    {
        if (!_headDelivered) DeliverHead();
        if (ReaderGone) return 0;
        if (_paused) return CurlConst.WRITEFUNC_PAUSE;
        if (Request.MaxFilesize is { } max && _received + data.Length > max)
        {
            TooLarge = true;
            ForbidReuse();
            return 0;
        }
        _received += data.Length;
        Pipe.Writer.Write(data);
        _unflushed += data.Length;
        if (_unflushed >= FlushBytes)
        {
            if (!Flush()) return 0;
        }
        else if (!_flushQueued)
        {
            _flushQueued = true;
            Loop.FlushAtEndOfTurn(this);
        }
        Options.OnProgress?.Invoke(_received, _expected);
        return (nuint)data.Length;
    }

    /// <summary>
    /// On the loop thread: makes the written bytes visible to the reader. False when the reader is gone (the
    /// next write callback aborts the transfer). A full pipe pauses the transfer (the next write callback returns
    /// CURL_WRITEFUNC_PAUSE) until the reader has drained it.
    /// </summary>
    public bool Flush()
    {
        _flushQueued = false;
        if (_unflushed == 0 || Finished) return !ReaderGone;
        _unflushed = 0;
        var flush = Pipe.Writer.FlushAsync();
        if (flush.IsCompleted)
        {
            if (flush.Result.IsCompleted) { ReaderGone = true; ForbidReuse(); return false; }
            return true;
        }
        // Back-pressure: what was written is taken; libcurl pauses until the reader has drained enough.
        _paused = true;
        HandleDirty = true;
        Loop.Metrics.BackPressurePauses.Inc();
        flush.AsTask().ContinueWith(static (t, state) =>
        {
            var transfer = (Transfer)state!;
            transfer.Loop.Post(new LoopCommand(LoopCommandKind.Resume, transfer));
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return true;
    }

    /// <summary>
    /// The connection under a response that did not end cleanly (aborted, refused, cut short) is closed
    /// when the transfer ends instead of going back to the connection cache: whatever the upstream still
    /// sends on it would otherwise be read as the answer to the next caller's request (issue 16).
    /// libcurl reads CURLOPT_FORBID_REUSE when the transfer is done, so setting it mid-transfer holds.
    /// </summary>
    public void ForbidReuse()
    {
        if (Easy == 0) return;
        HandleDirty = true;
        LibCurl.SetLong(Easy, CurlOpt.FORBID_REUSE, 1);
    }

    /// <summary>On the loop thread, after the reader drained the pipe: un-pause receiving (sending stays paused while the upload waits).</summary>
    public void Resume()
    {
        if (!_paused || Finished) return;
        _paused = false;
        LibCurl.curl_easy_pause(Easy, _uploadPaused ? CurlConst.PAUSE_SEND : CurlConst.PAUSE_CONT);
    }

    // ---- read callback (loop thread): a streamed upload (ExecutionOptions.UploadBody) -----------

    private bool _uploadPaused;

    /// <summary>
    /// Copies what the upload reader has into libcurl's buffer; 0 at its end; CURL_READFUNC_PAUSE when it has
    /// nothing yet, and the transfer's sending side is resumed (ResumeUpload) once bytes arrive. A reader that
    /// failed throws here, which the callback turns into CURL_READFUNC_ABORT.
    /// </summary>
    public nuint OnRead(Span<byte> destination)
    {
        var reader = Options.UploadBody!;
        if (!reader.TryRead(out var result))
        {
            _uploadPaused = true;
            HandleDirty = true;
            reader.ReadAsync().AsTask().ContinueWith(static (t, state) =>
            {
                var transfer = (Transfer)state!;
                // Nothing consumed: the next read callback takes the bytes (or sees the failure).
                if (t.IsCompletedSuccessfully) transfer.Options.UploadBody!.AdvanceTo(t.Result.Buffer.Start);
                transfer.Loop.Post(new LoopCommand(LoopCommandKind.ResumeUpload, transfer));
            }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return CurlConst.READFUNC_PAUSE;
        }
        var buffer = result.Buffer;
        if (buffer.IsEmpty)
        {
            reader.AdvanceTo(buffer.End);
            return 0; // completed: the end of the body
        }
        var n = (int)Math.Min(destination.Length, buffer.Length);
        buffer.Slice(0, n).CopyTo(destination);
        reader.AdvanceTo(buffer.GetPosition(n));
        return (nuint)n;
    }

    /// <summary>On the loop thread, once the upload reader has bytes (or ended): un-pause sending.</summary>
    public void ResumeUpload()
    {
        if (!_uploadPaused || Finished) return;
        _uploadPaused = false;
        LibCurl.curl_easy_pause(Easy, _paused ? CurlConst.PAUSE_RECV : CurlConst.PAUSE_CONT);
    }

    // ---- open-socket callback (loop thread): the SSRF check on the address libcurl connects to --

    public int OnOpenSocket(int family, int socketType, int protocol, IPAddress address, int port)
    {
        // Under --upstream-proxy every connection goes to the proxy (CURLOPT_NOPROXY ""); its targets were
        // checked by the executor and OnPrereq. Anything else still meets the guard.
        var verdict = Proxy is { } proxy && proxy.IsProxyEndpoint(address, port) ? SsrfVerdict.AllowedByCidr : Guard.CheckAddress(address, port);
        if (!verdict.Allowed)
        {
            Denial = verdict;
            return CurlConst.SOCKET_BAD;
        }
        var fd = LibC.socket(family, socketType, protocol);
        if (fd < 0) return CurlConst.SOCKET_BAD;
        Loop.Metrics.ConnectionsOpened.Inc();
        return fd;
    }

    // ---- pre-request callback (loop thread, only under --upstream-proxy) ---------------------------

    /// <summary>Records that the executor resolved and checked this origin before the transfer started.</summary>
    public void MarkChecked(CanonicalUrl origin) => (_checkedOrigins ??= new(StringComparer.OrdinalIgnoreCase)).Add(origin.Host + ":" + origin.Port);

    /// <summary>
    /// Called by libcurl before each request it sends (the first and every redirect hop). Under a proxy the
    /// connect-time check only sees the proxy, so a hop to a host not checked yet is resolved and checked here.
    /// </summary>
    public int OnPrereq()
    {
        if (LibCurl.GetPtr(Easy, CurlInfo.EFFECTIVE_URL, out var p) != CurlCode.OK || p == 0) return CurlConst.PREREQFUNC_ABORT;
        var url = Marshal.PtrToStringUTF8(p) ?? "";
        var verdict = Guard.CheckUrl(url, out var canonical);
        if (!verdict.Allowed || canonical is null)
        {
            Denial = verdict.Allowed ? new SsrfVerdict(false, SsrfRules.InvalidUrl, null) : verdict;
            return CurlConst.PREREQFUNC_ABORT;
        }
        if (_checkedOrigins is not null && _checkedOrigins.Contains(canonical.Host + ":" + canonical.Port)) return CurlConst.PREREQFUNC_OK;
        try
        {
            if (UpstreamProxy.CheckTarget(Guard, canonical) is { } denied)
            {
                Denial = denied;
                return CurlConst.PREREQFUNC_ABORT;
            }
        }
        catch (TargetUnresolvedException e)
        {
            ProxyFailure = e.Message;
            return CurlConst.PREREQFUNC_ABORT;
        }
        MarkChecked(canonical);
        return CurlConst.PREREQFUNC_OK;
    }

    // ---- completion (loop thread) ---------------------------------------------------------------

    public void Complete(ApiError? error, TransferInfo info, IReadOnlyList<string>? cookies)
    {
        if (Finished) return;
        Finished = true;
        if (!_headDelivered && error is null) DeliverHead();
        if (!_headDelivered) _head.TrySetException(new ApiErrorException(error!));
        if (error is null) Pipe.Writer.Complete();
        else Pipe.Writer.Complete(new ApiErrorException(error));
        _completion.TrySetResult(new TransferResult(error, info) { Cookies = cookies });
    }

    public void MarkCancelled() => Cancelled = true;

    /// <summary>The caller went away: the transfer is marked and its loop told to cancel it (safe more than once).</summary>
    void ITransferControl.PostAbort()
    {
        MarkCancelled();
        Loop.Post(new LoopCommand(LoopCommandKind.Cancel, this));
    }

    /// <summary>A long-lived SSE passthrough: its loop takes it off the sync timeout and the handle pool.</summary>
    void ITransferControl.PostPromote() => Loop.Post(new LoopCommand(LoopCommandKind.Promote, this));

    /// <summary>Set when the response was promoted to an SSE passthrough: the handle is not pooled afterwards.</summary>
    public bool Promoted { get; private set; }

    /// <summary>
    /// On the loop thread, when the sync passthrough takes over a text/event-stream (docs/api.md, Events): a
    /// request without its own `timeout` loses the sync default transfer timeout (the stream is capped by
    /// --sse-max-duration-secs instead); libcurl reads CURLOPT_TIMEOUT_MS on every timeout check.
    /// </summary>
    public void Promote()
    {
        Promoted = true;
        if (Finished || Easy == 0) return;
        HandleDirty = true;
        if (Request.Timeout is null) LibCurl.SetLong(Easy, CurlOpt.TIMEOUT_MS, 0);
    }
}

/// <summary>The final response head.</summary>
internal sealed record TransferHead(int StatusCode, IReadOnlyList<HeaderEntry> Headers, string EffectiveUrl);

/// <summary>
/// The last value seen for each known response header name, on one loop's thread: an upstream that a sidecar calls again
/// and again sends the same Server, Content-Type, Connection, Accept-Ranges (and, within its second, Date) each time, and
/// a value whose bytes equal the last one's shares its string instead of decoding a new one. Values were ~410 of ~6,000
/// bytes allocated per relayed 1 KiB request with nginx's 8 headers (issue 13). Values longer than
/// <see cref="MaxCachedLength"/> are decoded and not kept, so the cache holds at most a few KiB. Set-Cookie values are
/// never kept: they differ per response, and a session's cookie should not outlive its response here.
/// </summary>
internal sealed class HeaderValueCache
{
    internal const int MaxCachedLength = 128;
    private static readonly bool[] Uncached = [.. Transfer.KnownNames.Select(n => n.Equals("set-cookie", StringComparison.OrdinalIgnoreCase))];
    private readonly string?[] _last = new string?[Transfer.KnownNames.Length];

    public string Get(int known, ReadOnlySpan<byte> value)
    {
        if (value.Length > MaxCachedLength || Uncached[known]) return Transfer.Latin1(value);
        if (_last[known] is { } last && System.Text.Ascii.Equals(value, last)) return last;
        return _last[known] = Transfer.Latin1(value);
    }
}
