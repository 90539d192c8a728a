using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.TestUpstream;

/// <summary>
/// Counts every request and, for requests with <c>?trace=&lt;id&gt;</c>, reports start, client abort
/// and normal completion to the trace. It also swallows the exceptions a handler throws only because
/// the client went away, since those are expected in disconnect tests and not failures of the server.
/// </summary>
internal sealed class TraceMiddleware(RequestDelegate next, TraceRegistry traces, RequestCounter requests)
{
    public async Task InvokeAsync(HttpContext context)
    {
        requests.Increment();
        string? id = context.Request.Query["trace"];
        RequestTrace? trace = string.IsNullOrEmpty(id) ? null : traces.Get(id);
        if (trace is null)
        {
            await RunAsync(context);
            return;
        }

        trace.OnStarted(HeaderSnapshot.Lowercased(context.Request.Headers));
        CancellationTokenRegistration onAbort = context.RequestAborted.Register(static state => ((RequestTrace)state!).OnAborted(), trace);
        try
        {
            await RunAsync(context);
        }
        finally
        {
            await onAbort.DisposeAsync();
            trace.OnEnded();
        }

        if (!context.RequestAborted.IsCancellationRequested)
        {
            trace.OnFinished();
        }
    }

    private async Task RunAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client disconnected (or the handler aborted the connection on purpose).
        }
    }
}
