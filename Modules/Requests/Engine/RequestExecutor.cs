// The one IRequestExecutor: URL pre-check, retries before the first response byte, spreading
// transfers over the loops, metrics and the per-request log line.
using System.Diagnostics;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Native;
using HoodyCurl.Requests.Security;
using HoodyCurl.Sessions;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Requests.Engine;

internal sealed class RequestExecutor : IRequestExecutor, IDisposable
{
    private readonly TransferLoop[] _loops;
    /// <summary>The transfer loops (tests look at their counters).</summary>
    internal IReadOnlyList<TransferLoop> Loops => _loops;
    private readonly SsrfGuard _guard;
    private readonly RequestsOptions _options;
    private readonly EngineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ISessionStore _sessions;
    private readonly nint _resolveList;

    public RequestExecutor(RequestsOptions options, SsrfGuard guard, EngineMetrics metrics, ILogger<RequestExecutor> logger, ISessionStore sessions)
    {
        CurlRuntime.EnsureInitialized();
        _options = options;
        _guard = guard;
        _metrics = metrics;
        _logger = logger;
        _sessions = sessions;
        foreach (var entry in guard.ResolveEntries) _resolveList = LibCurl.curl_slist_append(_resolveList, entry.ToCurlFormat());
        var budget = new PoolBudget();
        _loops = new TransferLoop[Math.Max(1, options.TransferThreads)];
        for (var i = 0; i < _loops.Length; i++) _loops[i] = new TransferLoop(i, options, metrics, budget, _resolveList, logger);
        Log.EngineStarted(logger, CurlRuntime.Version, _loops.Length);
        if (options.Proxy is { } proxy) Log.UpstreamProxyInUse(logger, proxy.Display);
    }

    /// <summary>The check of a request that will run later (async submit, schedule create): refusals are logged like a sync one's.</summary>
    public ApiError? Precheck(CurlRequest request)
    {
        var refused = Precheck(request, out var canonical, out var verdict);
        if (refused?.Code == ErrorCodes.SsrfBlocked)
            Log.SsrfDenied(_logger, "submit", verdict.Rule, verdict.Address, canonical is null ? "-" : $"{canonical.Scheme}://{canonical.Host}:{canonical.Port}");
        return refused;
    }

    /// <summary>The request with its host in punycode when it is internationalised (libcurl and the guard see ASCII).</summary>
    private static CurlRequest WithAsciiHost(CurlRequest request)
    {
        var ascii = IdnHost.ToAsciiUrl(request.Url);
        return ReferenceEquals(ascii, request.Url) ? request : request with { Url = ascii };
    }

    private ApiError? Precheck(CurlRequest request, out CanonicalUrl? canonical, out SsrfVerdict verdict)
    {
        try
        {
            // Whatever door built the request (a parser, a stored job or schedule, a link, the channel).
            Validation.RequestRules.CheckHeaderFields(request);
        }
        catch (ApiErrorException e)
        {
            canonical = null;
            verdict = SsrfVerdict.AllowedByDefault;
            return e.Error;
        }
        verdict = _guard.CheckUrl(IdnHost.ToAsciiUrl(request.Url), out canonical);
        if (verdict.Allowed) return null;
        if (verdict.Rule == "invalid_url") return ApiError.Validation("field 'url' is not a valid URL");
        _metrics.SsrfDenied.WithLabels(verdict.Rule).Inc();
        return SsrfError.Blocked(verdict);
    }

    public async Task<UpstreamResponse> SendAsync(CurlRequest request, ExecutionOptions options, CancellationToken cancellationToken)
    {
        request = WithAsciiHost(request);
        var started = Stopwatch.GetTimestamp();
        var upstream = "-";
        if (Precheck(request, out var canonical, out var verdict) is { } refused)
        {
            if (canonical is not null) upstream = $"{canonical.Scheme}://{canonical.Host}:{canonical.Port}";
            Record(options, refused, 0, 0, started, upstream, 0);
            if (refused.Code == ErrorCodes.SsrfBlocked) Log.SsrfDenied(_logger, options.RequestId, verdict.Rule, verdict.Address, upstream);
            throw new ApiErrorException(refused);
        }
        if (canonical is null) throw new System.Diagnostics.UnreachableException("the precheck passed without a canonical URL");
        var origin = _origins.Get(canonical, request);
        upstream = origin.Upstream;
        if (_options.Proxy is not null && await CheckProxiedTargetAsync(canonical, options, started, upstream, cancellationToken).ConfigureAwait(false) is { } proxiedRefusal)
            throw new ApiErrorException(proxiedRefusal);
        var poolKey = origin.PoolKey;
        var maxAttempts = options.UploadBody is null ? 1 + (request.RetryCount ?? 0) : 1; // a streamed body cannot be replayed

        // Sessions (docs/api.md, D13): the jar is leased from before the first attempt until the transfer has
        // ended and its cookies are stored, so concurrent requests on one session are serialised and none
        // loses another's cookies. The completion below takes the lease over; every other way out of this
        // method (no head, retries exhausted, cancel) releases it. A failed transfer stores nothing.
        ISessionLease? lease = null;
        if (request.SessionId is { } sessionId)
        {
            try
            {
                lease = await _sessions.AcquireAsync(sessionId, cancellationToken).ConfigureAwait(false);
            }
            catch (ApiErrorException e)
            {
                Record(options, e.Error, 0, 0, started, upstream, 0);
                throw;
            }
            options = options with { LoadCookies = lease.Cookies, CaptureCookies = true };
        }
        using var release = lease is null ? null : new LeaseRelease(lease); // none for a request without a session

        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            options.OnAttempt?.Invoke(attempt);
            var loop = PickLoop();
            var transfer = new Transfer(request, options, loop, _guard, poolKey, _options.Proxy);
            if (_options.Proxy is not null) transfer.MarkChecked(canonical);
            var registration = cancellationToken.Register(static state =>
            {
                var t = (Transfer)state!;
                t.MarkCancelled();
                t.Loop.Post(new LoopCommand(LoopCommandKind.Cancel, t));
            }, transfer);
            loop.Post(new LoopCommand(LoopCommandKind.Start, transfer));
            TransferHead head;
            try
            {
                head = await transfer.Head.ConfigureAwait(false);
            }
            catch (ApiErrorException e)
            {
                await registration.DisposeAsync().ConfigureAwait(false);
                var result = await transfer.Completion.ConfigureAwait(false);
                if (transfer.Denial is { } denial) Log.SsrfDenied(_logger, options.RequestId, denial.Rule, denial.Address, upstream);
                if (attempt < maxAttempts && IsRetryable(transfer) && !cancellationToken.IsCancellationRequested)
                {
                    var delay = request.RetryDelay ?? 1;
                    _metrics.Retries.Inc();
                    Log.Retrying(_logger, options.RequestId, attempt, e.Error.Message, delay);
                    await Task.Delay(TimeSpan.FromSeconds(delay), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                Record(options, e.Error, result.Info.StatusCode, result.Info.SizeDownload, started, upstream, attempt);
                cancellationToken.ThrowIfCancellationRequested();
                throw;
            }

            var attempts = attempt;
            var held = release?.HandOff();
            var completion = FinishAsync(transfer.Completion, registration, options, head.StatusCode, started, upstream, attempts, held);
            var decoded = request.Compressed == true && head.Headers.Any(h =>
                h.Name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase) && !h.Value.Equals("identity", StringComparison.OrdinalIgnoreCase));
            return new UpstreamResponse(head.StatusCode, head.Headers, head.EffectiveUrl, decoded, transfer.Pipe.Reader, completion, attempts, abort: null)
            {
                Control = transfer,
            };
        }
    }

    /// <summary>Each origin's log text and pool key, built once per origin.</summary>
    private readonly OriginStringsCache _origins = new();

    /// <summary>
    /// Under --upstream-proxy the connect-time check only sees the proxy, so the target host is resolved (with the
    /// --resolve overrides) and every address checked here, before anything leaves. Redirect hops are checked in
    /// <see cref="Transfer.OnPrereq"/>.
    /// </summary>
    private async Task<ApiError?> CheckProxiedTargetAsync(CanonicalUrl canonical, ExecutionOptions options, long started, string upstream, CancellationToken cancellationToken)
    {
        ApiError refusal;
        try
        {
            if (await UpstreamProxy.CheckTargetAsync(_guard, canonical, cancellationToken).ConfigureAwait(false) is not { } denied) return null;
            _metrics.SsrfDenied.WithLabels(denied.Rule).Inc();
            Log.SsrfDenied(_logger, options.RequestId, denied.Rule, denied.Address, upstream);
            refusal = SsrfError.Blocked(denied);
        }
        catch (TargetUnresolvedException e)
        {
            refusal = new ApiError(502, ErrorCodes.UpstreamError, e.Message);
        }
        Record(options, refusal, 0, 0, started, upstream, 0);
        return refusal;
    }

    /// <summary>Network errors before any response byte may be retried (never SSRF, cancel or policy errors).</summary>
    private static bool IsRetryable(Transfer t) =>
        t.Denial is null && !t.Cancelled && !t.HeadDelivered && t.CurlResult is
            CurlCode.COULDNT_RESOLVE_HOST or CurlCode.COULDNT_CONNECT or CurlCode.OPERATION_TIMEDOUT or
            CurlCode.SEND_ERROR or CurlCode.RECV_ERROR or CurlCode.GOT_NOTHING or CurlCode.SSL_CONNECT_ERROR or CurlCode.PARTIAL_FILE;

    private TransferLoop PickLoop()
    {
        var best = _loops[0];
        for (var i = 1; i < _loops.Length; i++) if (_loops[i].Load < best.Load) best = _loops[i];
        return best;
    }

    private void Record(ExecutionOptions options, ApiError? error, int status, long bytes, long started, string upstream, int attempts)
    {
        var outcome = error is null ? "ok" : error.Code switch
        {
            ErrorCodes.SsrfBlocked => "ssrf_denied",
            ErrorCodes.UpstreamTimeout => "timeout",
            ErrorCodes.ResponseTooLarge => "too_large",
            ErrorCodes.Validation => "invalid",
            "CANCELLED" => "cancelled",
            _ => "upstream_error",
        };
        var elapsed = Stopwatch.GetElapsedTime(started);
        _metrics.RequestFinished(options.Door, outcome, elapsed);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.RequestFinished(_logger, options.RequestId, options.Door, error is null ? "allowed" : outcome == "ssrf_denied" ? "denied" : "failed",
                error?.Code ?? "-", upstream, status, bytes, (long)elapsed.TotalMilliseconds, attempts);
        }
    }

    public void Dispose()
    {
        foreach (var loop in _loops) loop.Dispose();
    }

    /// <summary>
    /// What follows the transfer's end: the registration goes, the request is recorded (metrics, access line), and a
    /// session's cookies are stored before its lease is released. An async method rather than a ContinueWith: the
    /// closure, delegate, continuation task and its bookkeeping were ~315 bytes per request, the state machine is ~150
    /// (issue 13). Runs inline when the transfer had already ended, on a pool thread otherwise, as before.
    /// </summary>
    private async Task<TransferResult> FinishAsync(Task<TransferResult> transferCompletion, CancellationTokenRegistration registration,
        ExecutionOptions options, int status, long started, string upstream, int attempts, ISessionLease? held)
    {
        var result = await transferCompletion.ConfigureAwait(false);
        registration.Dispose();
        Record(options, result.Error, status, result.Info.SizeDownload, started, upstream, attempts);
        if (held is not null)
        {
            try
            {
                if (result.Ok && result.Cookies is { } cookies) held.Persist(cookies); // logs its own failures
            }
            finally
            {
                held.Dispose();
            }
        }
        return result;
    }

    /// <summary>Releases a session lease on every way out of SendAsync unless the completion took it over.</summary>
    private sealed class LeaseRelease(ISessionLease? lease) : IDisposable
    {
        private ISessionLease? _lease = lease;

        public ISessionLease? HandOff()
        {
            var handed = _lease;
            _lease = null;
            return handed;
        }

        public void Dispose() => _lease?.Dispose();
    }
}

/// <summary>An origin's log text ("scheme://host:port") and handle-pool key.</summary>
internal sealed record OriginStrings(string Scheme, string Host, int Port, bool Insecure, string? CertType, string Upstream, string PoolKey);

/// <summary>
/// The origins used last, direct-mapped by host and port: a request to one of them reuses its two strings, which were
/// built per request (~220 of ~6,000 bytes allocated per relayed 1 KiB request, issue 13). Entries are immutable and
/// replaced whole, so threads share the array without locks; a slot two origins share holds whichever came last.
/// </summary>
internal sealed class OriginStringsCache
{
    private readonly OriginStrings?[] _slots = new OriginStrings?[16];

    public OriginStrings Get(CanonicalUrl canonical, CurlRequest request)
    {
        var insecure = request.Insecure == true;
        var slot = (int)((uint)HashCode.Combine(canonical.Host, canonical.Port) % (uint)_slots.Length);
        if (Volatile.Read(ref _slots[slot]) is { } known && known.Port == canonical.Port && known.Insecure == insecure
            && known.Host == canonical.Host && known.Scheme == canonical.Scheme && known.CertType == request.CertType)
            return known;
        var upstream = $"{canonical.Scheme}://{canonical.Host}:{canonical.Port}";
        var fresh = new OriginStrings(canonical.Scheme, canonical.Host, canonical.Port, insecure, request.CertType, upstream,
            $"{upstream}|{insecure}|{request.CertType}");
        Volatile.Write(ref _slots[slot], fresh);
        return fresh;
    }
}
