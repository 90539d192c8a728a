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

internal sealed class Transfer
{
    /// <summary>Pipe thresholds: the transfer pauses when this many bytes wait unread.</summary>
    internal const int PauseBytes = 1024 * 1024;
    private const int ResumeBytes = 512 * 1024;

    private readonly TaskCompletionSource<TransferHead> _head = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<TransferResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<HeaderEntry> _headers = new(16);
    private int _status;
    private bool _headDelivered;
    private bool _paused;
    private long _received;
    private long? _expected;
    private int _curlResult = -1;
    private GCHandle _self;

    public Transfer(CurlRequest request, ExecutionOptions options, TransferLoop loop, SsrfGuard guard, string poolKey)
    {
        Request = request;
        Options = options;
        Loop = loop;
        Guard = guard;
        PoolKey = poolKey;
        Pipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: PauseBytes, resumeWriterThreshold: ResumeBytes,
            minimumSegmentSize: 16 * 1024, readerScheduler: PipeScheduler.ThreadPool,
            writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
    }

    public CurlRequest Request { get; }
    public ExecutionOptions Options { get; }
    public TransferLoop Loop { get; }
    public SsrfGuard Guard { get; }
    public string PoolKey { get; }
    public Pipe Pipe { get; }
    public nint Easy { get; set; }
    public nint HeaderList { get; set; }
    public nint Mime { get; set; }
    public nint ErrorBuffer { get; set; }
    public bool Cancelled { get; private set; }
    /// <summary>
    /// libcurl's CURLcode for the finished transfer (0 = OK), -1 before it finished. CURLE_UNSUPPORTED_PROTOCOL
    /// is an SSRF denial: the pre-check let only http and https through, so libcurl refused a redirect to another
    /// scheme (REDIR_PROTOCOLS_STR). Recording it as <see cref="Denial"/> gives it the 403, the metric and the log
    /// line that name the rule, like every other denial.
    /// </summary>
    public int CurlResult
    {
        get => _curlResult;
        set
        {
            _curlResult = value;
            if (value == CurlCode.UNSUPPORTED_PROTOCOL && Denial is null)
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

    public void OnHeaderLine(ReadOnlySpan<byte> line)
    {
        if (_headDelivered) return; // trailers: ignored
        var text = System.Text.Encoding.Latin1.GetString(line).TrimEnd('\r', '\n');
        if (text.StartsWith("HTTP/", StringComparison.Ordinal))
        {
            // A new response (1xx, redirect hop, auth round): start over.
            _headers = new List<HeaderEntry>(16);
            var space = text.IndexOf(' ');
            _status = space > 0 && text.Length >= space + 4 && int.TryParse(text.AsSpan(space + 1, 3), out var s) ? s : 0;
            return;
        }
        if (text.Length == 0)
        {
            if (IsFinalResponse()) DeliverHead();
            return;
        }
        if (text[0] is ' ' or '\t' && _headers.Count > 0)
        {
            var last = _headers[^1]; // obsolete line folding: append to the previous value
            _headers[^1] = last with { Value = last.Value + " " + text.Trim() };
            return;
        }
        var colon = text.IndexOf(':');
        if (colon <= 0) return;
        _headers.Add(new HeaderEntry(text[..colon].Trim(), text[(colon + 1)..].Trim()));
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
        _headDelivered = true;
        var effectiveUrl = LibCurl.GetString(Easy, CurlInfo.EFFECTIVE_URL) ?? Request.Url;
        var status = _status;
        if (LibCurl.GetLong(Easy, CurlInfo.RESPONSE_CODE, out var code) == 0 && code > 0) status = (int)code;
        if (Request.Compressed != true)
        {
            var length = _headers.FindLast(h => h.Name.Equals("content-length", StringComparison.OrdinalIgnoreCase))?.Value;
            if (long.TryParse(length, out var n) && n >= 0) _expected = n;
        }
        _head.TrySetResult(new TransferHead(status, _headers, effectiveUrl));
    }

    // ---- write callback (loop thread) -----------------------------------------------------------

    /// <summary>Returns the number of bytes taken, CURL_WRITEFUNC_PAUSE, or 0 to abort.</summary>
    public nuint OnBody(ReadOnlySpan<byte> data)
    {
        if (!_headDelivered) DeliverHead();
        if (_paused) return CurlConst.WRITEFUNC_PAUSE;
        if (Request.MaxFilesize is { } max && _received + data.Length > max)
        {
            TooLarge = true;
            return 0;
        }
        _received += data.Length;
        var writer = Pipe.Writer;
        writer.Write(data);
        var flush = writer.FlushAsync();
        if (flush.IsCompleted)
        {
            if (flush.Result.IsCompleted) { ReaderGone = true; return 0; }
        }
        else
        {
            // Back-pressure: this chunk is taken; libcurl pauses until the reader has drained enough.
            _paused = true;
            flush.AsTask().ContinueWith(static (t, state) =>
            {
                var transfer = (Transfer)state!;
                transfer.Loop.Post(new LoopCommand(LoopCommandKind.Resume, transfer));
            }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        Options.OnProgress?.Invoke(_received, _expected);
        return (nuint)data.Length;
    }

    /// <summary>On the loop thread, after the reader drained the pipe: un-pause the transfer.</summary>
    public void Resume()
    {
        if (!_paused || Finished) return;
        _paused = false;
        LibCurl.curl_easy_pause(Easy, CurlConst.PAUSE_CONT);
    }

    // ---- open-socket callback (loop thread): the SSRF check on the address libcurl connects to --

    public int OnOpenSocket(int family, int socketType, int protocol, IPAddress address, int port)
    {
        var verdict = Guard.CheckAddress(address, port);
        if (!verdict.Allowed)
        {
            Denial = verdict;
            return CurlConst.SOCKET_BAD;
        }
        var fd = LibC.socket(family, socketType, protocol);
        return fd < 0 ? CurlConst.SOCKET_BAD : fd;
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

    /// <summary>Set when the response was promoted to an SSE passthrough: the handle is not pooled afterwards.</summary>
    public bool Promoted { get; private set; }

    /// <summary>
    /// On the loop thread, when the sync passthrough takes over a text/event-stream (events.md §4): a
    /// request without its own `timeout` loses the sync default transfer timeout (the stream is capped by
    /// --sse-max-duration-secs instead); libcurl reads CURLOPT_TIMEOUT_MS on every timeout check.
    /// </summary>
    public void Promote()
    {
        Promoted = true;
        if (Finished || Easy == 0) return;
        if (Request.Timeout is null) LibCurl.SetLong(Easy, CurlOpt.TIMEOUT_MS, 0);
    }
}

/// <summary>The final response head.</summary>
internal sealed record TransferHead(int StatusCode, IReadOnlyList<HeaderEntry> Headers, string EffectiveUrl);
