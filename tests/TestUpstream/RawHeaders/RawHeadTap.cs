using System.Collections.Concurrent;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HoodyCurl.TestUpstream.RawHeaders;

/// <summary>
/// Connects the wire-level view to requests: a connection middleware taps each connection's input
/// and queues the request heads it sees; an HTTP middleware takes the next head of its connection
/// for every request (HTTP/1.1 serves a connection's requests in order) and exposes it as a
/// request feature. A head that does not match the request is dropped and no raw view is given.
/// </summary>
internal sealed class RawHeadTap
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<RawRequestHead>> _headsByConnection = new(StringComparer.Ordinal);

    public async Task OnConnectionAsync(ConnectionContext connection, Func<Task> next)
    {
        var heads = new ConcurrentQueue<RawRequestHead>();
        _headsByConnection[connection.ConnectionId] = heads;
        IDuplexPipe transport = connection.Transport;
        connection.Transport = new DuplexPipe(new TappingPipeReader(transport.Input, new Http1FramingParser(heads.Enqueue)), transport.Output);
        try
        {
            await next();
        }
        finally
        {
            _headsByConnection.TryRemove(connection.ConnectionId, out _);
        }
    }

    public Task OnRequestAsync(HttpContext context, RequestDelegate next)
    {
        if (_headsByConnection.TryGetValue(context.Connection.Id, out var heads) && heads.TryDequeue(out RawRequestHead? head))
        {
            string? target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
            if (head.Method == context.Request.Method && head.Target == target)
            {
                context.Features.Set(head);
            }
        }
        return next(context);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
