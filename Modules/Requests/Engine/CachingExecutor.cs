// The response cache in front of the engine (docs/api.md, Cache; Modules/Cache). Every door calls IRequestExecutor, so
// wrapping it here makes a hit answer REST, the bridge, jobs, schedules, links and the channel alike. The cache
// is consulted where a transfer would start (lookup; collapsing of concurrent misses) and offered the response
// where its head arrives (store decision; the body is teed to the store while it streams to the caller).
//
//   caller ──SendAsync──► lookup ─ hit/stale ──────────────► UpstreamResponse over the content file
//                           │
//                           ├─ revalidate ─► RequestExecutor + If-None-Match/If-Modified-Since ─ 304 ─► refreshed entry
//                           │                                                                  └ other ─► as a miss
//                           └─ miss ─► collapse (one leader per key; followers wait, then look up again)
//                                        └─► RequestExecutor ─► head ─► BeginStore ─► tee: body → caller pipe + store
using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using HoodyCurl.Cache;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Security;
using HoodyCurl.Requests.Validation;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Requests.Engine;

internal sealed class CachingExecutor(RequestExecutor inner, IResponseCache cache, SsrfGuard guard, RequestsOptions options, TimeProvider clock,
    EngineMetrics metrics, ILogger logger)
    : IRequestExecutor
{
    public const string NotCachedCode = "NOT_CACHED";

    public ApiError? Precheck(CurlRequest request) => inner.Precheck(request);

    public async Task<UpstreamResponse> SendAsync(CurlRequest request, ExecutionOptions execution, CancellationToken cancellationToken)
    {
        // Off (--cache-mode off or no namespace): no lookup takes place, so nothing is counted (RequestsModule does not
        // even put this executor in front of the engine then).
        if (!cache.Enabled) return await inner.SendAsync(request, execution, cancellationToken).ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        var method = request.EffectiveMethod;
        var url = IdnHost.ToAsciiUrl(request.Url);
        if (method is not ("GET" or "HEAD"))
        {
            var response = await inner.SendAsync(request, execution, cancellationToken).ConfigureAwait(false);
            // RFC 9111 §4.4: a successful unsafe method invalidates the target URL's stored responses.
            if (response.StatusCode < 400 && method is not ("OPTIONS" or "TRACE")) cache.Invalidate(url);
            cache.CountBypass("method_not_cacheable");
            return Mark(response, "bypass");
        }
        // Nothing is served from the cache for a request the engine would refuse (SSRF, header injection):
        // the engine refuses it with its own answer, metrics and log line.
        if (Admissible(request, url) is not { } canonical) return await inner.SendAsync(request, execution, cancellationToken).ConfigureAwait(false);

        var key = ToCacheRequest(request, method, url);
        var lookup = await cache.LookupAsync(key, ct => CurrentAddresses(canonical, ct), cancellationToken).ConfigureAwait(false);
        CollapseTicket? ticket = null;
        if (lookup.Outcome == CacheOutcome.Miss && lookup.MayStore)
        {
            ticket = await cache.CollapseAsync(key, cancellationToken).ConfigureAwait(false);
            if (!ticket.Leader)
            {
                // Another caller fetched this key meanwhile: its result is in the store if it was storable.
                ticket = null;
                lookup = await cache.LookupAsync(key, ct => CurrentAddresses(canonical, ct), cancellationToken).ConfigureAwait(false);
            }
        }
        try
        {
            switch (lookup.Outcome)
            {
                case CacheOutcome.Hit or CacheOutcome.Stale:
                    if (ServeHit(lookup.Entry!, lookup.Outcome == CacheOutcome.Hit ? "hit" : "stale", request, url, canonical, execution, started) is { } served)
                        return served;
                    break; // the body vanished or was corrupt (the entry is gone): fetch it
                case CacheOutcome.Unsatisfiable:
                    throw new ApiErrorException(new ApiError(504, NotCachedCode, "only-if-cached: the cache holds no usable response for this request"));
                case CacheOutcome.Revalidate:
                    var requestTime = clock.GetUtcNow();
                    var conditional = request with { Headers = [.. request.Headers ?? [], .. lookup.ConditionalHeaders.Select(h => new HeaderEntry(h.Key, h.Value))] };
                    var answer = await inner.SendAsync(conditional, execution, cancellationToken).ConfigureAwait(false);
                    if (answer.StatusCode == 304)
                    {
                        var headers = Neutral(answer.Headers);
                        await answer.DisposeAsync().ConfigureAwait(false);
                        // The conditional request was counted and logged by the engine (a 304); the stored body it unlocked
                        // still obeys max_filesize.
                        if (cache.Refresh(key, lookup.Entry!, headers, requestTime) is { } refreshed &&
                            ServeHit(refreshed, "revalidated", request, url, canonical, execution, started, record: false) is { } served304)
                            return served304;
                        return Mark(await inner.SendAsync(request, execution, cancellationToken).ConfigureAwait(false), "miss");
                    }
                    return Store(answer, key, canonical, lookup.MayStore, requestTime, "miss", null);
                case CacheOutcome.Bypass when lookup.Reason == "pin_mismatch":
                    // The stored entry's address is no longer the host's (DNS moved, --resolve changed): it is not served;
                    // the fresh answer, fetched from the current address, replaces it.
                    var refetchTime = clock.GetUtcNow();
                    var refetched = await inner.SendAsync(request, execution, cancellationToken).ConfigureAwait(false);
                    return Store(refetched, key, canonical, lookup.MayStore, refetchTime, "bypass", null);
                case CacheOutcome.Bypass:
                    return Mark(await inner.SendAsync(request, execution, cancellationToken).ConfigureAwait(false), "bypass");
            }
            var fetchTime = clock.GetUtcNow();
            var fetched = await inner.SendAsync(request, execution, cancellationToken).ConfigureAwait(false);
            var stored = Store(fetched, key, canonical, lookup.MayStore, fetchTime, "miss", ticket);
            ticket = null; // the tee releases it once the store is done
            return stored;
        }
        finally
        {
            ticket?.Dispose();
        }
    }

    /// <summary>The request's canonical URL when the engine would run it; null when it would refuse it.</summary>
    private CanonicalUrl? Admissible(CurlRequest request, string url)
    {
        try
        {
            RequestRules.CheckHeaderFields(request);
        }
        catch (ApiErrorException)
        {
            return null;
        }
        // The guard's URL verdict depends on the URL and the fixed flags only (no DNS): allowed URLs are remembered, so a
        // hit does not canonicalise its URL every time (a bounded memo, emptied when full).
        if (_admitted.TryGetValue(url, out var known)) return known;
        if (!guard.CheckUrl(url, out var canonical).Allowed) return null;
        if (_admitted.Count >= MemoSize) _admitted.Clear();
        _admitted[url] = canonical!;
        return canonical;
    }

    private const int MemoSize = 4096;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CanonicalUrl> _admitted = new(StringComparer.Ordinal);
    /// <summary>A stored head converted to the engine's header type once per stored head (the cache keeps its list).</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlyList<KeyValuePair<string, string>>, List<HeaderEntry>> _heads = new();

    /// <summary>
    /// A hit (or an allowed stale entry) answers like a relayed request: the caller's max_filesize refuses a larger
    /// body with the engine's own error, and the request is counted in hoody_curl_requests_total and logged on the
    /// engine's one line per request (attempts=0: nothing went upstream). Null when the body vanished or was corrupt.
    /// </summary>
    private UpstreamResponse? ServeHit(CachedResponse entry, string status, CurlRequest request, string url, CanonicalUrl canonical,
        ExecutionOptions execution, long started, bool record = true)
    {
        var head = request.EffectiveMethod == "HEAD";
        if (!head && request.MaxFilesize is { } max && entry.Size > max && entry.StatusCode is not (204 or 304))
        {
            entry.OpenBody()?.Dispose();
            var tooLarge = new ApiError(502, ErrorCodes.ResponseTooLarge, $"the response is larger than max_filesize ({max} bytes)");
            if (record) Record(execution, tooLarge, entry.StatusCode, 0, started, canonical);
            throw new ApiErrorException(tooLarge);
        }
        var served = Serve(entry, status, request, url);
        if (served is not null && record) Record(execution, null, entry.StatusCode, head ? 0 : entry.Size, started, canonical);
        return served;
    }

    private void Record(ExecutionOptions execution, ApiError? error, int status, long bytes, long started, CanonicalUrl canonical)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        metrics.RequestFinished(execution.Door, error is null ? "ok" : "too_large", elapsed);
        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.RequestFinished(logger, execution.RequestId, execution.Door, error is null ? "allowed" : "failed", error?.Code ?? "-",
                $"{canonical.Scheme}://{canonical.Host}:{canonical.Port}", status, bytes, (long)elapsed.TotalMilliseconds, 0);
        }
    }

    private static UpstreamResponse Mark(UpstreamResponse response, string status)
    {
        response.CacheStatus = status;
        return response;
    }

    private static List<KeyValuePair<string, string>> Neutral(IReadOnlyList<HeaderEntry> headers) =>
        headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value)).ToList();

    /// <summary>The request as the cache sees it; fields that carry per-caller state name the skip reason (docs/api.md, Cache).</summary>
    internal static CacheRequest ToCacheRequest(CurlRequest r, string method, string url)
    {
        var headers = new List<KeyValuePair<string, string>>();
        if (r.Headers is { } given) headers.AddRange(given.Select(h => new KeyValuePair<string, string>(h.Name, h.Value)));
        if (r.UserAgent is { } ua) headers.Add(new("User-Agent", ua));
        if (r.Referer is { } referer) headers.Add(new("Referer", referer));
        if (r.Compressed == true) headers.Add(new("Accept-Encoding", "(libcurl decoding)"));
        string? state =
            r.Cookie is not null ? "cookie" :
            r.BearerToken is not null ? "bearer_token" :
            r.SessionId is not null ? "session_id" :
            r.Range is not null ? "range" :
            r.AuthUser is not null || r.AuthPassword is not null ? "auth_credentials" :
            r.Insecure == true || r.CertType is not null ? "non_default_security" :
            r.HasBody ? "request_body" : null;
        return new CacheRequest(method, url, headers) { CallerState = state };
    }

    /// <summary>The host's current resolve-and-pin set: the literal address, the --resolve entries, else DNS.</summary>
    private async ValueTask<IReadOnlyList<string>> CurrentAddresses(CanonicalUrl canonical, CancellationToken cancellationToken)
    {
        if (canonical.LiteralAddress is { } literal) return [literal.ToString()];
        var host = canonical.Host;
        List<string>? pinned = null;
        foreach (var e in guard.ResolveEntries)
            if (e.Port == canonical.Port && e.Host.Equals(host, StringComparison.OrdinalIgnoreCase)) (pinned ??= []).Add(e.Address.ToString());
        if (pinned is not null) return pinned;
        try
        {
            return (await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false)).Select(a => a.ToString()).ToList();
        }
        catch (SocketException)
        {
            return [];
        }
    }

    /// <summary>A stored response as an UpstreamResponse whose body streams from the content file; null when it is gone.</summary>
    private UpstreamResponse? Serve(CachedResponse entry, string status, CurlRequest request, string url)
    {
        var head = request.EffectiveMethod == "HEAD";
        Stream? body = null;
        if (!head && entry.StatusCode is not (204 or 304))
        {
            body = entry.OpenBody();
            if (body is null) return null;
        }
        else
        {
            entry.OpenBody()?.Dispose(); // opened (and verified) by the lookup; no body goes out
        }
        var reader = PipeReader.Create(body ?? Stream.Null, new StreamPipeReaderOptions(bufferSize: (int)Math.Clamp(entry.Size, 4096, 256 * 1024)));
        var headers = _heads.GetValue(entry.Headers, static h => h.Select(x => new HeaderEntry(x.Key, x.Value)).ToList());
        var info = new TransferInfo
        {
            StatusCode = entry.StatusCode,
            SizeDownload = body is null ? 0 : entry.Size,
            ContentType = UpstreamResponse.LastValue(headers, "content-type"),
            EffectiveUrl = url,
            PrimaryIp = entry.PinIp,
        };
        return new UpstreamResponse(entry.StatusCode, headers, url, false, reader, Task.FromResult(new TransferResult(null, info)), 0, static () => { })
        {
            CacheStatus = status,
            CacheAgeSeconds = entry.AgeSeconds,
            BodyFile = body as ContentStream, // verified already (a body still being verified is another stream)
        };
    }

    /// <summary>Offers a response to the store; when it is taken, the body is teed into it while it streams on.</summary>
    private UpstreamResponse Store(UpstreamResponse response, CacheRequest key, CanonicalUrl canonical, bool mayStore, DateTimeOffset requestTime, string status,
        CollapseTicket? ticket)
    {
        var writer = mayStore ? cache.BeginStore(key, response.StatusCode, Neutral(response.Headers), response.BodyDecoded, requestTime) : null;
        if (writer is null)
        {
            ticket?.Dispose();
            return Mark(response, status);
        }
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false));
        var completion = Task.Run(() => TeeAsync(response, writer, pipe.Writer, ticket, canonical));
        return new UpstreamResponse(response.StatusCode, response.Headers, response.EffectiveUrl, response.BodyDecoded, pipe.Reader, completion,
            response.Attempts, response.Abort) { CacheStatus = status };
    }

    private async Task<TransferResult> TeeAsync(UpstreamResponse response, ICacheWriter writer, PipeWriter caller, CollapseTicket? ticket, CanonicalUrl canonical)
    {
        Exception? failure = null;
        var callerGone = false;
        try
        {
            while (true)
            {
                var read = await response.Body.ReadAsync().ConfigureAwait(false);
                foreach (var segment in read.Buffer)
                {
                    caller.Write(segment.Span);
                    await writer.WriteAsync(segment, CancellationToken.None).ConfigureAwait(false);
                }
                response.Body.AdvanceTo(read.Buffer.End);
                var flushed = await caller.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    callerGone = true;
                    break;
                }
                if (read.IsCompleted) break;
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        if (callerGone || failure is not null) response.Abort();
        var result = await response.Completion.ConfigureAwait(false);
        try
        {
            if (failure is null && !callerGone && result.Ok && writer.Active)
                await writer.CommitAsync(options.Proxy is null ? result.Info.PrimaryIp : null, ct => CurrentAddresses(canonical, ct), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The store failed; the caller's answer does not depend on it.
        }
        finally
        {
            await writer.DisposeAsync().ConfigureAwait(false);
            ticket?.Dispose();
        }
        await caller.CompleteAsync(failure).ConfigureAwait(false);
        await response.Body.CompleteAsync().ConfigureAwait(false);
        return result;
    }
}
