// One transfer thread: owns a curl_multi handle and runs curl_multi_poll. Everything that touches a
// libcurl handle happens here; other threads only Post commands and wake the loop with
// curl_multi_wakeup. No thread blocks per request, so hundreds of concurrent streams cost no threads.
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Native;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Requests.Engine;

internal enum LoopCommandKind { Start, Resume, ResumeUpload, Cancel, Promote }

internal readonly record struct LoopCommand(LoopCommandKind Kind, Transfer Transfer);

internal sealed unsafe class TransferLoop : IDisposable
{
    private readonly ConcurrentQueue<LoopCommand> _commands = new();
    private readonly Dictionary<nint, Transfer> _active = [];
    private readonly RequestsOptions _options;
    private readonly EngineMetrics _metrics;
    private readonly HandlePool _pool;
    private readonly nint _resolveList;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly nint _multi;
    private volatile bool _stopping;

    internal EngineMetrics Metrics => _metrics;

    public TransferLoop(int index, RequestsOptions options, EngineMetrics metrics, PoolBudget budget, nint resolveList, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _resolveList = resolveList;
        _logger = logger;
        _pool = new HandlePool(options.PoolPerOrigin, options.PoolGlobal, metrics, budget);
        _multi = LibCurl.curl_multi_init();
        // CURLMOPT_MAXCONNECTS is left at libcurl's default (four times the transfers added), so the
        // connection cache grows with concurrency: a fixed small cache closed and re-opened upstream
        // connections under load (bench/RESULTS.md).
        _thread = new Thread(Run) { IsBackground = true, Name = $"hoody-curl-transfer-{index}" };
        _thread.Start();
    }

    /// <summary>Number of transfers this loop is running (a hint for spreading new ones).</summary>
    public int Load => Volatile.Read(ref _load);
    private int _load;

    public void Post(LoopCommand command)
    {
        if (command.Kind == LoopCommandKind.Start) Interlocked.Increment(ref _load);
        _commands.Enqueue(command);
        LibCurl.curl_multi_wakeup(_multi);
    }

    private void Run()
    {
        while (true)
        {
            Drain();
            if (_stopping)
            {
                // Shutdown past the host's grace period: whatever still runs is cancelled.
                foreach (var t in _active.Values.ToArray()) Finish(t, Cancelled, bypass: "cancellation");
                if (_commands.IsEmpty) break;
            }
            LibCurl.curl_multi_perform(_multi, out _);
            ReadFinished();
            LibCurl.curl_multi_poll(_multi, 0, 0, 1000, out _);
        }
        _pool.Clear();
        LibCurl.curl_multi_cleanup(_multi);
    }

    private void Drain()
    {
        while (_commands.TryDequeue(out var command))
        {
            try
            {
                switch (command.Kind)
                {
                    case LoopCommandKind.Start: Start(command.Transfer); break;
                    case LoopCommandKind.Resume: command.Transfer.Resume(); break;
                    case LoopCommandKind.ResumeUpload: command.Transfer.ResumeUpload(); break;
                    case LoopCommandKind.Cancel: Cancel(command.Transfer); break;
                    case LoopCommandKind.Promote: command.Transfer.Promote(); break;
                }
            }
            catch (Exception e)
            {
                // Never let one transfer take the loop down.
                Log.LoopCommandFailed(_logger, command.Kind.ToString(), e);
                Finish(command.Transfer, ApiError.Internal("transfer setup failed: " + e.Message), bypass: "cancellation");
            }
        }
    }

    private void Start(Transfer t)
    {
        if (t.Cancelled)
        {
            Interlocked.Decrement(ref _load);
            t.Complete(Cancelled, TransferInfo.Empty, null);
            return;
        }
        var bypass = t.Request.Insecure == true || t.Request.CertType is not null;
        if (bypass)
        {
            _metrics.PoolBypasses.WithLabels("non_default_security").Inc();
            t.Easy = LibCurl.curl_easy_init();
        }
        else if (UsesCookieEngine(t))
        {
            // A session's jar is loaded into a fresh handle, never a pooled one: a handle keeps per-request
            // cookie state that curl_easy_reset does not clear (after a response that set 50 cookies,
            // libcurl refused every cookie the next session loaded, and that session then saved an empty
            // jar — issue 16). A fresh handle holds exactly the session's jar; connections stay pooled in
            // the multi handle, so this costs a handle set-up, not a reconnect.
            _metrics.PoolBypasses.WithLabels("session").Inc();
            t.Easy = LibCurl.curl_easy_init();
        }
        else
        {
            t.Easy = _pool.Take(t.PoolKey);
        }
        t.Pin();
        TransferSetup.Apply(t, _options, _resolveList);
        var code = LibCurl.curl_multi_add_handle(_multi, t.Easy);
        if (code != 0) throw new InvalidOperationException($"curl_multi_add_handle failed with {code}");
        _active[t.Easy] = t;
        _metrics.Active.Inc();
    }

    private static bool UsesCookieEngine(Transfer t) => t.Options.LoadCookies is not null || t.Options.CaptureCookies;

    private void Cancel(Transfer t)
    {
        t.MarkCancelled();
        if (t.Easy == 0 || !_active.ContainsKey(t.Easy)) return; // not started yet (Start will see it) or already done
        Finish(t, Cancelled, bypass: "cancellation");
    }

    private void ReadFinished()
    {
        while (true)
        {
            var message = LibCurl.curl_multi_info_read(_multi, out _);
            if (message == null) break;
            if (message->Msg != CurlConst.MSG_DONE || !_active.TryGetValue(message->EasyHandle, out var t)) continue;
            t.CurlResult = message->Result;
            var error = ErrorOf(t, message->Result);
            Finish(t, error, bypass: t.ReaderGone ? "cancellation" : t.Promoted ? "promoted" : null);
        }
    }

    private void Finish(Transfer t, ApiError? error, string? bypass)
    {
        var easy = t.Easy;
        var info = TransferInfo.Empty;
        IReadOnlyList<string>? cookies = null;
        if (easy != 0)
        {
            info = TransferFacts.Read(easy);
            if (t.Options.CaptureCookies && error is null) cookies = TransferFacts.Cookies(easy);
            // An unfinished or failed transfer leaves its connection in an unknown state: never reuse it.
            if (error is not null && _active.ContainsKey(easy)) t.ForbidReuse();
            if (_active.Remove(easy))
            {
                LibCurl.curl_multi_remove_handle(_multi, easy);
                _metrics.Active.Dec();
            }
            if (t.HeaderList != 0) { LibCurl.curl_slist_free_all(t.HeaderList); t.HeaderList = 0; }
            if (t.StrippedHeaderList != 0) { LibCurl.curl_slist_free_all(t.StrippedHeaderList); t.StrippedHeaderList = 0; }
            if (t.Mime != 0) { LibCurl.curl_mime_free(t.Mime); t.Mime = 0; }
            // A handle that ran the cookie engine is never pooled (see Start).
            var nonDefault = t.Request.Insecure == true || t.Request.CertType is not null || UsesCookieEngine(t);
            if (bypass is not null) _pool.Bypass(easy, bypass);
            else if (nonDefault) LibCurl.curl_easy_cleanup(easy);
            else _pool.Put(t.PoolKey, easy);
            t.Easy = 0;
            if (t.ErrorBuffer != 0) { NativeMemory.Free((void*)t.ErrorBuffer); t.ErrorBuffer = 0; }
        }
        Interlocked.Decrement(ref _load);
        t.Unpin();
        if (t.Denial is { } denial) _metrics.SsrfDenied.WithLabels(denial.Rule).Inc();
        _metrics.BytesDown.Inc(info.SizeDownload);
        t.Complete(error, info, cookies);
    }

    internal static readonly ApiError Cancelled = new(410, "CANCELLED", "The request was cancelled");

    private static ApiError? ErrorOf(Transfer t, int code)
    {
        if (t.Denial is { } denial) return SsrfError.Blocked(denial);
        if (t.ProxyFailure is { } proxyFailure) return new ApiError(502, Kernel.Errors.ErrorCodes.UpstreamError, proxyFailure);
        if (t.Cancelled || t.ReaderGone) return Cancelled;
        if (t.HeadRefusal is { } refusal) return refusal;
        if (t.TooLarge || code == CurlCode.FILESIZE_EXCEEDED)
            return new ApiError(502, Kernel.Errors.ErrorCodes.ResponseTooLarge, $"the response is larger than max_filesize ({t.Request.MaxFilesize} bytes)");
        if (code == CurlCode.OK) return null;
        var detail = t.ErrorBuffer != 0 ? Marshal.PtrToStringUTF8(t.ErrorBuffer) : null;
        var text = string.IsNullOrEmpty(detail) ? LibCurl.StrError(code) : detail;
        return code switch
        {
            CurlCode.OPERATION_TIMEDOUT => new ApiError(504, Kernel.Errors.ErrorCodes.UpstreamTimeout, "upstream timed out: " + text),
            // Not after a redirect (that one is a Denial above): the answer was not HTTP at all.
            CurlCode.UNSUPPORTED_PROTOCOL => new ApiError(502, Kernel.Errors.ErrorCodes.UpstreamError,
                "the upstream's answer is not a valid HTTP/1.x response (HTTP/0.9 or a bad status line): " + text),
            _ => new ApiError(502, Kernel.Errors.ErrorCodes.UpstreamError, text),
        };
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var t in _commands.Select(c => c.Transfer)) t.MarkCancelled();
        LibCurl.curl_multi_wakeup(_multi);
        _thread.Join(TimeSpan.FromSeconds(5));
    }
}
