// What the engine hands back: the response head as soon as libcurl has it, the body as a bounded pipe,
// and a task that completes with the transfer's outcome and facts when libcurl is done.
using System.IO.Pipelines;
using HoodyCurl.Kernel.Errors;

namespace HoodyCurl.Requests.Model;

/// <summary>What a response asks of the live transfer behind it (implemented by the engine's transfer itself, so a
/// response needs no closures: two delegates and their closure were ~150 bytes per request, issue 13).</summary>
internal interface ITransferControl
{
    /// <summary>Asks the transfer's loop to cancel it (any thread, more than once).</summary>
    void PostAbort();
    /// <summary>Asks the transfer's loop to treat it as a long-lived SSE passthrough.</summary>
    void PostPromote();
}

public sealed class UpstreamResponse : IAsyncDisposable
{
    private readonly ITransferControl? _control;

    internal UpstreamResponse(int statusCode, IReadOnlyList<HeaderEntry> headers, string effectiveUrl, bool bodyDecoded,
        PipeReader body, Task<TransferResult> completion, int attempts, Action? abort, Action? promote = null)
    {
        if (abort is not null || promote is not null) _control = new DelegateControl(abort, promote);
        StatusCode = statusCode;
        Headers = headers;
        EffectiveUrl = effectiveUrl;
        BodyDecoded = bodyDecoded;
        Body = body;
        Completion = completion;
        Attempts = attempts;
    }

    /// <summary>The control of a response that is not the engine's own (a cache hit, a tee): what its maker passed.</summary>
    private sealed class DelegateControl(Action? abort, Action? promote) : ITransferControl
    {
        public void PostAbort() => abort?.Invoke();
        public void PostPromote() => promote?.Invoke();
    }

    /// <summary>The live transfer behind the response (the engine's); when set, Abort and Promote go to it.</summary>
    internal ITransferControl? Control { init => _control = value; }

    public int StatusCode { get; }
    /// <summary>Headers of the final response, original case and order (set-cookie entries kept apart).</summary>
    public IReadOnlyList<HeaderEntry> Headers { get; }
    public string EffectiveUrl { get; }
    /// <summary>True when libcurl decoded a Content-Encoding (the `compressed` option).</summary>
    public bool BodyDecoded { get; }
    /// <summary>The body. Read it to the end (or dispose/abort this response); back-pressure pauses the transfer.</summary>
    public PipeReader Body { get; }
    /// <summary>Completes when libcurl finished the transfer (successfully or not). Never faults.</summary>
    public Task<TransferResult> Completion { get; }
    /// <summary>Attempts made, 1 + retries (0 for a response served from the cache).</summary>
    public int Attempts { get; }
    /// <summary>The response cache's verdict (hit, miss, stale, revalidated, bypass); null when caching is off.</summary>
    public string? CacheStatus { get; internal set; }
    /// <summary>Seconds the stored response has aged (RFC 9111 §4.2.3), for the Age header of a served entry.</summary>
    public long? CacheAgeSeconds { get; internal init; }
    /// <summary>A cache hit's verified content file, when the body is exactly its bytes: transparent mode sends it straight
    /// from the file (no pipe) instead of reading <see cref="Body"/>, which is over the same file.</summary>
    internal HoodyCurl.Cache.ContentStream? BodyFile { get; init; }

    public string? ContentType => LastValue(Headers, "content-type");

    /// <summary>
    /// The value of the last header named <paramref name="name"/> (any case), or null. A loop, not LINQ's LastOrDefault
    /// with a predicate: that was ~1.7k of ~165k instructions per relayed request, in four lookups (callgrind, issue 13).
    /// </summary>
    internal static string? LastValue(IReadOnlyList<HeaderEntry> headers, string name)
    {
        for (var i = headers.Count - 1; i >= 0; i--)
        {
            if (headers[i].Name.Equals(name, StringComparison.OrdinalIgnoreCase)) return headers[i].Value;
        }
        return null;
    }

    public long? ContentLength
    {
        get
        {
            var value = LastValue(Headers, "content-length");
            return long.TryParse(value, out var n) && n >= 0 ? n : null;
        }
    }

    /// <summary>Aborts the transfer (the caller went away). Safe to call more than once.</summary>
    public void Abort() => _control?.PostAbort();

    /// <summary>Marks the transfer as a long-lived SSE passthrough (no sync default timeout, not pooled).</summary>
    public void Promote() => _control?.PostPromote();

    public async ValueTask DisposeAsync()
    {
        if (!Completion.IsCompleted) Abort();
        await Completion.ConfigureAwait(false);
        await Body.CompleteAsync().ConfigureAwait(false);
    }
}

/// <summary>The outcome of a finished transfer.</summary>
public sealed record TransferResult(ApiError? Error, TransferInfo Info)
{
    public bool Ok => Error is null;
    /// <summary>Cookies read back from libcurl (Netscape lines) when the execution asked for them.</summary>
    public IReadOnlyList<string>? Cookies { get; init; }
}

/// <summary>Timing (seconds) and metadata from curl_easy_getinfo.</summary>
public sealed record TransferInfo
{
    public double Total { get; init; }
    public double NameLookup { get; init; }
    public double Connect { get; init; }
    public double PreTransfer { get; init; }
    public double StartTransfer { get; init; }
    public double Redirect { get; init; }
    public int RedirectCount { get; init; }
    public long SizeDownload { get; init; }
    public long SizeUpload { get; init; }
    public double SpeedDownload { get; init; }
    public double SpeedUpload { get; init; }
    public string? ContentType { get; init; }
    public string? EffectiveUrl { get; init; }
    public string? PrimaryIp { get; init; }
    public int StatusCode { get; init; }

    public static readonly TransferInfo Empty = new();
}
