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
        var clientGone = false;
        try
        {
            clientGone = await RunAsync(context);
        }
        finally
        {
            await onAbort.DisposeAsync();
            trace.OnEnded();
        }

        // Kestrel cancels RequestAborted from a queued work item: a write that failed because the client closed
        // the connection can end the handler first, and the registration above is gone by the time the token
        // fires. Such an ending is an abort too (seen as "aborted never signalled" in ~1 of 5 full E2E runs).
        if (clientGone || context.RequestAborted.IsCancellationRequested)
        {
            trace.OnAborted();
        }
        else
        {
            trace.OnFinished();
        }
    }

    /// <summary>Runs the handler; true when it ended because the client went away.</summary>
    private async Task<bool> RunAsync(HttpContext context)
    {
        try
        {
            await next(context);
            return false;
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested || e is IOException or OperationCanceledException)
        {
            // The client disconnected (or the handler aborted the connection on purpose): a failed write
            // (IOException, ConnectionResetException) or a cancelled one (ConnectionAbortedException).
            return true;
        }
    }
}
