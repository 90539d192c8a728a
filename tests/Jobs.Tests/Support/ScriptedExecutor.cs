// A stand-in for the libcurl engine: it answers with the UpstreamResponse a test scripts, streamed
// through a real bounded Pipe with real abort and completion semantics, so the worker's streaming,
// cancellation and error paths run exactly as they do against the engine. (The engine itself is
// exercised end to end by the E2E tests against the published binary.)
using System.IO.Pipelines;
using System.Reflection;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Jobs.Tests.Support;

internal sealed class ScriptedExecutor : IRequestExecutor
{
    private int _calls;

    public Func<CurlRequest, ExecutionOptions, CancellationToken, Task<UpstreamResponse>> Handler { get; set; } =
        (_, _, _) => Task.FromResult(Upstream.Respond("ok"u8.ToArray()));

    public int Calls => Volatile.Read(ref _calls);

    public ApiError? Precheck(CurlRequest request) => null;

    public Task<UpstreamResponse> SendAsync(CurlRequest request, ExecutionOptions options, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        cancellationToken.ThrowIfCancellationRequested();
        return Handler(request, options, cancellationToken);
    }
}

internal static class Upstream
{
    private static readonly ConstructorInfo Constructor =
        typeof(UpstreamResponse).GetConstructors(BindingFlags.NonPublic | BindingFlags.Instance).Single();

    /// <summary>
    /// A response whose body is <paramref name="body"/>, written in chunks (with an optional pause
    /// between them) into a pipe that pauses the writer at 64 KiB, like the engine's.
    /// </summary>
    public static UpstreamResponse Respond(byte[] body, int status = 200, IReadOnlyList<HeaderEntry>? headers = null,
        int attempts = 1, TimeSpan? chunkDelay = null, int chunkSize = 16 * 1024, Action<long, long?>? progress = null,
        bool sendContentLength = true, ApiError? failAtEnd = null)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));
        var abort = new CancellationTokenSource();
        var allHeaders = new List<HeaderEntry>(headers ?? [new HeaderEntry("Content-Type", "application/octet-stream")]);
        if (sendContentLength) allHeaders.Add(new HeaderEntry("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var completion = Task.Run(async () =>
        {
            long sent = 0;
            try
            {
                while (sent < body.Length)
                {
                    var n = (int)Math.Min(chunkSize, body.Length - sent);
                    await pipe.Writer.WriteAsync(body.AsMemory((int)sent, n), abort.Token);
                    sent += n;
                    progress?.Invoke(sent, body.Length);
                    if (chunkDelay is { } d) await Task.Delay(d, abort.Token);
                }
                await pipe.Writer.CompleteAsync();
                var info = new TransferInfo
                {
                    Total = 0.01, SizeDownload = body.Length, StatusCode = status, EffectiveUrl = "http://upstream.test/x",
                    PrimaryIp = "127.0.0.1", ContentType = allHeaders.FirstOrDefault(h => h.Name.Equals("content-type", StringComparison.OrdinalIgnoreCase))?.Value,
                };
                return new TransferResult(failAtEnd, info);
            }
            catch (OperationCanceledException)
            {
                await pipe.Writer.CompleteAsync();
                return new TransferResult(new ApiError(502, ErrorCodes.UpstreamError, "transfer aborted"), TransferInfo.Empty);
            }
        });
        Action cancel = () => { try { abort.Cancel(); } catch (ObjectDisposedException) { } };
        // Optional trailing parameters (e.g. the SSE promote hook) take their defaults.
        object?[] args = [status, allHeaders, "http://upstream.test/x", false, pipe.Reader, completion, attempts, cancel];
        var parameters = Constructor.GetParameters();
        if (parameters.Length > args.Length) args = [.. args, .. parameters[args.Length..].Select(p => p.DefaultValue)];
        return (UpstreamResponse)Constructor.Invoke(args);
    }
}
