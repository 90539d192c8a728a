// GET /sse: job events as Server-Sent Events (docs/api.md: Events; E4). The stream holds one
// --max-sse-concurrent permit for its lifetime, starts with `retry: 5000`, replays the durable log
// after Last-Event-ID / ?after=N, then forwards live events; every block carries the durable id. A
// `:` comment follows every --sse-heartbeat-secs without a write, and the response ends after
// --sse-max-duration-secs (the EventSource reconnects with its Last-Event-ID and misses nothing).
using System.Buffers;
using HoodyCurl.Jobs;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Sse;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace HoodyCurl.Realtime.Endpoints;

internal sealed class JobSseStream(IJobEvents events, SseSettings sse, SseCapacity capacity, RealtimeOptions options, RealtimeMetrics metrics, TimeProvider time,
    IHostApplicationLifetime host)
{
    private readonly byte[] _preamble = JobEventFrames.SsePreamble(options.SseRetryMs);

    public async Task RunAsync(HttpContext context)
    {
        if (!sse.Enabled)
            throw new ApiErrorException(new ApiError(404, ErrorCodes.NotFound, "SSE is turned off on this sidecar (--no-sse)"));
        var query = StreamQuery.Read(context.Request, useLastEventId: true);
        using var permit = capacity.TryAcquire(SseKinds.Jobs) ?? throw new ApiErrorException(capacity.Refusal());
        using var subscription = events.Subscribe(query.JobId, options.SubscriberBuffer);
        var feed = new EventFeed(subscription.Reader, subscription.TakeMissed,
            (after, limit) => events.ReadAfter(after, query.JobId, limit), query.After, options.ReplayPage);

        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var aborted = context.RequestAborted;
        // Ends with the client, at --sse-max-duration-secs, or when the sidecar shuts down (the stream
        // would otherwise hold the graceful shutdown for its whole timeout).
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(aborted, host.ApplicationStopping);
        lifetime.CancelAfter(TimeSpan.FromSeconds(sse.MaxDurationSecs));
        var token = lifetime.Token;
        var writer = response.BodyWriter;
        var heartbeat = TimeSpan.FromSeconds(options.HeartbeatSecs);
        var delivered = metrics.Delivered.WithLabels(Transports.Sse);
        var lagged = metrics.Lagged.WithLabels(Transports.Sse);
        Task<bool>? ready = null;
        try
        {
            writer.Write(_preamble);
            await writer.FlushAsync(token).ConfigureAwait(false);
            while (!token.IsCancellationRequested)
            {
                var wrote = 0;
                while (wrote < 512 && feed.TryNext(out var item))
                {
                    if (item.Event is { } e)
                    {
                        JobEventFrames.WriteSse(writer, e);
                        delivered.Inc();
                    }
                    else
                    {
                        JobEventFrames.WriteSseLag(writer, item.Missed);
                        lagged.Inc(item.Missed);
                    }
                    wrote++;
                }
                if (wrote > 0)
                {
                    var flushed = await writer.FlushAsync(token).ConfigureAwait(false);
                    if (flushed.IsCompleted || flushed.IsCanceled) return;
                    continue;
                }
                ready ??= feed.WaitAsync(token).AsTask();
                var idle = Task.Delay(heartbeat, time, token);
                if (await Task.WhenAny(ready, idle).ConfigureAwait(false) == ready)
                {
                    if (!await ready.ConfigureAwait(false)) return; // the subscription ended (shutdown)
                    ready = null;
                    continue;
                }
                writer.Write(JobEventFrames.SseHeartbeat);
                var beat = await writer.FlushAsync(token).ConfigureAwait(false);
                if (beat.IsCompleted || beat.IsCanceled) return;
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away or --sse-max-duration-secs passed: end the response.
        }
        catch (IOException)
        {
        }
        finally
        {
            if (ready is not null) _ = ready.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }
    }
}
