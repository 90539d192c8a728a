// One socket of /api/v1/curl/channel (docs/api.md (Channel)): many CurlRequest executions multiplexed as streams.
//
//   receive loop ──request.start──▶ validate (the REST parser + the executor's pre-check) ─▶ accepted
//        │                              └─▶ stream task: FIFO slot (max_concurrent_streams, max_queue waiting)
//        │                                   ─▶ IRequestExecutor.SendAsync ─▶ response.start ─▶ body / sse_event ─▶ response.end
//        └──request.cancel / REQUEST_BODY / ping                         │
//                                                                        ▼
//   writer loop ◀── one bounded outbound queue (max_outbound_messages) ◀─ every frame of every stream
//
// Back-pressure: a stream puts a body frame on the queue only while it holds one of its few per-stream
// quota tokens (returned when the writer has sent the frame) and while the shared queue has room. A slow
// socket therefore stops the stream tasks reading their engine pipes, the pipes fill, and the engine's
// write callback pauses libcurl (CURL_WRITEFUNC_PAUSE): nothing buffers a whole body. The quota also
// interleaves streams fairly: a large body holds at most StreamQuota frames of the queue at a time,
// so frames of other streams get in between.
using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Sse;
using HoodyCurl.Kernel.Time;
using HoodyCurl.Requests;
using HoodyCurl.Requests.Endpoints;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Realtime.Channel;

internal sealed class ChannelConnection
{
    /// <summary>Body frames one stream may have waiting in the outbound queue at once.</summary>
    internal const int StreamQuota = 4;
    /// <summary>Binary sockets buffer a 2xx body only up to this Content-Length; larger or unknown ones stream (docs/api.md (Channel)).</summary>
    private const long BufferedBinaryLimit = 16 * 1024;
    /// <summary>
    /// A streamed body gathers at most this much (or chunk_bytes, if smaller) while its earlier frames wait: well
    /// under the engine pipe's pause threshold (1 MiB), so gathering alone never pauses libcurl; frames still
    /// carry up to chunk_bytes when more than this is already there.
    /// </summary>
    private const int CoalesceBytes = 256 * 1024;

    private readonly WebSocket _socket;
    private readonly ChannelLimits _limits;
    private readonly ChannelServices _services;
    private readonly Channel<Outbound> _outbound;
    private readonly ConcurrentDictionary<ulong, ChannelStream> _streams = new();
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _closed;
    private readonly HoodyCurl.Kernel.Metrics.Counter.Child _bytesOut;
    private long _lastActivity;
    private (WebSocketCloseStatus Status, string Reason)? _close;

    public ChannelConnection(WebSocket socket, ChannelLimits limits, ChannelServices services, CancellationToken aborted)
    {
        _socket = socket;
        _limits = limits;
        _services = services;
        _outbound = System.Threading.Channels.Channel.CreateBounded<Outbound>(new BoundedChannelOptions(limits.MaxOutboundMessages)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = false,
        });
        _slots = new SemaphoreSlim(limits.MaxConcurrentStreams, limits.MaxConcurrentStreams);
        _closed = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _lastActivity = Environment.TickCount64;
        _bytesOut = services.Metrics.ChannelBytes.WithLabels("out"); // looked up once, not per frame
    }

    private RealtimeMetrics Metrics => _services.Metrics;

    public async Task RunAsync(CancellationToken stopping)
    {
        Metrics.ChannelsOpen.Inc();
        using var onStop = stopping.Register(() => Close(WebSocketCloseStatus.EndpointUnavailable, "server shutting down"));
        var token = _closed.Token;
        var hello = ChannelFrames.Hello(Guid.NewGuid().ToString(), _limits, _services.Sse.Enabled, _services.CacheEnabled);
        _outbound.Writer.TryWrite(new Outbound(hello, hello.Length, false, null, false));
        var writer = WriteLoopAsync(token);
        var receiver = ReceiveLoopAsync(token);
        var idle = IdleLoopAsync(token);
        try
        {
            await Task.WhenAny(writer, receiver, idle).ConfigureAwait(false);
            await _closed.CancelAsync().ConfigureAwait(false); // stops the writer, the idle timer and every stream
            // A cancelled send or receive aborts a .NET WebSocket (no close frame), so neither is given the token:
            // the writer stops between messages, and the receive loop ends on the client's answering close.
            await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
            if (writer.IsCompleted && _close is { } close && _socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await _socket.CloseOutputAsync(close.Status, close.Reason, quick.Token).ConfigureAwait(false);
                    // Read what the client still sends until its close: closing a TCP socket with unread bytes
                    // resets it, and the client would lose the close frame and its status (e.g. 1009).
                    var scratch = new byte[16 * 1024];
                    while (receiver.IsCompleted && _socket.State == WebSocketState.CloseSent)
                        if ((await _socket.ReceiveAsync(scratch, quick.Token).ConfigureAwait(false)).MessageType == WebSocketMessageType.Close) break;
                    await Task.WhenAny(receiver, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException) { }
            }
        }
        finally
        {
            await _closed.CancelAsync().ConfigureAwait(false); // aborts every transfer of this socket
            _socket.Abort();
            await receiver.ConfigureAwait(false);
            await writer.ConfigureAwait(false);
            await idle.ConfigureAwait(false);
            var pending = _streams.Values.Select(s => s.Task).Where(t => t is not null).Cast<Task>().ToArray();
            await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Metrics.ChannelsOpen.Dec();
        }
    }

    private void Close(WebSocketCloseStatus status, string reason)
    {
        lock (_streams) _close ??= (status, reason);
        try { _closed.Cancel(); } catch (ObjectDisposedException) { }
    }

    // ---- writer -----------------------------------------------------------------------------------

    private async Task WriteLoopAsync(CancellationToken token)
    {
        try
        {
            await foreach (var item in _outbound.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                if (token.IsCancellationRequested) return;
                await _socket.SendAsync(item.Data.AsMemory(0, item.Length), item.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
                if (item.Pooled) ArrayPool<byte>.Shared.Return(item.Data); // sent: the socket has copied it out
                _bytesOut.Inc(item.Length);
                item.Owner?.OnFrameSent();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>A control frame (accepted, response.start/end, error, pong): it waits only for room in the shared queue.</summary>
    private ValueTask SendAsync(byte[] frame) => _outbound.Writer.WriteAsync(new Outbound(frame, frame.Length, false, null, false), _closed.Token);

    /// <summary>A body-carrying frame: it waits for one of its stream's quota tokens, then for room; either wait is a back-pressure pause.</summary>
    private ValueTask SendBodyAsync(ChannelStream stream, byte[] frame, bool binary, CancellationToken token) =>
        SendBodyAsync(stream, new Outbound(frame, frame.Length, binary, stream, false), token);

    /// <summary>
    /// As above for a frame in a pooled buffer (the first <paramref name="length"/> bytes of <paramref name="rented"/>):
    /// the writer returns the buffer to the pool once sent, or this method does when the frame never gets queued.
    /// </summary>
    private ValueTask SendPooledAsync(ChannelStream stream, byte[] rented, int length, bool binary, CancellationToken token) =>
        SendBodyAsync(stream, new Outbound(rented, length, binary, stream, true), token);

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendBodyAsync(ChannelStream stream, Outbound item, CancellationToken token)
    {
        var tokenHeld = false;
        try
        {
            if (!stream.Quota.Wait(0))
            {
                Metrics.BackPressurePauses.Inc();
                await stream.Quota.WaitAsync(token).ConfigureAwait(false);
            }
            tokenHeld = true;
            if (_outbound.Writer.TryWrite(item)) return;
            Metrics.BackPressurePauses.Inc();
            await _outbound.Writer.WriteAsync(item, token).ConfigureAwait(false);
        }
        catch
        {
            if (tokenHeld) stream.Quota.Release();
            if (item.Pooled) ArrayPool<byte>.Shared.Return(item.Data);
            throw;
        }
    }

    // ---- idle timer -------------------------------------------------------------------------------

    private async Task IdleLoopAsync(CancellationToken token)
    {
        var idleMs = _limits.IdleTimeoutSecs * 1000L;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Min(1000, idleMs)), _services.Time);
        using var stop = timer.StopOn(token); // the connection's end ends the loop
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            if (!_streams.IsEmpty) { Touch(); continue; } // an in-flight stream is activity
            if (Environment.TickCount64 - Interlocked.Read(ref _lastActivity) >= idleMs)
            {
                Close(WebSocketCloseStatus.NormalClosure, "idle timeout");
                return;
            }
        }
    }

    private void Touch() => Interlocked.Exchange(ref _lastActivity, Environment.TickCount64);

    // ---- receiver ---------------------------------------------------------------------------------

    /// <summary>
    /// Reads client messages. A REQUEST_BODY frame for a stream waiting for its body is not collected whole:
    /// as soon as its 16-byte header is in, every received fragment goes on into that stream's upload pipe,
    /// which libcurl's read callback drains as it sends (bounded by max_frame_bytes like any message).
    /// </summary>
    private async Task ReceiveLoopAsync(CancellationToken token)
    {
        var message = new ArrayBufferWriter<byte>(64 * 1024);
        ChannelStream? upload = null;
        var headerChecked = false;
        long messageBytes = 0;
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(message.GetMemory(16 * 1024), CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Close(WebSocketCloseStatus.NormalClosure, "");
                    return;
                }
                if (token.IsCancellationRequested) return; // closing: the message is not acted on
                message.Advance(result.Count);
                messageBytes += result.Count;
                if (messageBytes > _limits.MaxFrameBytes)
                {
                    upload?.FailUpload();
                    Close(WebSocketCloseStatus.MessageTooBig, $"message larger than max_frame_bytes ({_limits.MaxFrameBytes})");
                    return;
                }
                if (upload is not null)
                {
                    upload.WriteUpload(message.WrittenSpan);
                    message.ResetWrittenCount();
                }
                else if (!headerChecked && result.MessageType == WebSocketMessageType.Binary && _limits.Binary && message.WrittenCount >= BinaryFrame.HeaderBytes)
                {
                    headerChecked = true;
                    if (BinaryFrame.TryParse(message.WrittenSpan, out var header, out _) is null && header.Kind == BinaryFrame.KindRequestBody
                        && _streams.TryGetValue(header.StreamId, out var target) && target.TryBeginUpload())
                    {
                        upload = target;
                        upload.WriteUpload(message.WrittenSpan[BinaryFrame.HeaderBytes..]);
                        message.ResetWrittenCount();
                    }
                }
                if (!result.EndOfMessage) continue;
                Touch();
                Metrics.ChannelBytes.WithLabels("in").Inc(messageBytes);
                if (upload is not null) upload.EndUpload(messageBytes - BinaryFrame.HeaderBytes);
                else if (result.MessageType == WebSocketMessageType.Text) await OnTextAsync(message.WrittenMemory).ConfigureAwait(false);
                else await OnBinaryAsync(message.WrittenMemory).ConfigureAwait(false);
                upload = null;
                headerChecked = false;
                messageBytes = 0;
                if (message.Capacity > 4 * 1024 * 1024) message = new ArrayBufferWriter<byte>(64 * 1024); // do not keep a big message's buffer
                else message.ResetWrittenCount();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            upload?.FailUpload();
            Close(WebSocketCloseStatus.NormalClosure, "");
        }
    }

    private ValueTask ProtocolError(string message, ulong? streamId) => SendAsync(ChannelFrames.Error("protocol_error", message, streamId));

    private async Task OnTextAsync(ReadOnlyMemory<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = _services.Requests.Limits.MaxJsonDepth });
        }
        catch (JsonException)
        {
            await ProtocolError("a text frame is not a JSON object", null).ConfigureAwait(false);
            return;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                await ProtocolError("a text frame must be a JSON object with a string 'type'", null).ConfigureAwait(false);
                return;
            }
            ulong? streamId = null;
            if (root.TryGetProperty("stream_id", out var idElement))
            {
                if (idElement.ValueKind != JsonValueKind.Number || !idElement.TryGetUInt64(out var id))
                {
                    await ProtocolError("'stream_id' must be a non-negative integer", null).ConfigureAwait(false);
                    return;
                }
                streamId = id;
            }
            string type;
            try { type = typeElement.GetString()!; }
            catch (InvalidOperationException) { type = ""; }
            switch (type)
            {
                case "ping":
                    await SendAsync(ChannelFrames.Simple("pong")).ConfigureAwait(false);
                    break;
                case "request.start":
                    await OnStartAsync(root, streamId).ConfigureAwait(false);
                    break;
                case "request.cancel":
                    // Unknown or finished streams are ignored silently (docs/api.md (Channel)).
                    if (streamId is { } cancelId && _streams.TryGetValue(cancelId, out var stream)) stream.Cancel();
                    break;
                default:
                    await ProtocolError($"unknown message type '{HoodyCurl.Kernel.Errors.ErrorText.Printable(type)}'", streamId).ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task OnStartAsync(JsonElement root, ulong? streamId)
    {
        if (streamId is not { } id)
        {
            await ProtocolError("request.start needs a 'stream_id'", null).ConfigureAwait(false);
            return;
        }
        if (_streams.ContainsKey(id))
        {
            await ProtocolError($"stream_id {id} is already active on this socket", id).ConfigureAwait(false);
            return;
        }
        var binaryBody = root.TryGetProperty("binary_body", out var bb) && bb.ValueKind == JsonValueKind.True;
        if (binaryBody && !_limits.Binary)
        {
            await ProtocolError("binary_body needs a binary socket (connect with binary=true)", id).ConfigureAwait(false);
            return;
        }
        CurlRequest request;
        try
        {
            if (!root.TryGetProperty("request", out var element) || element.ValueKind != JsonValueKind.Object)
                throw new ApiErrorException(ApiError.Validation("request.start needs a 'request' object (a CurlRequest)"));
            if (System.Text.Encoding.UTF8.GetByteCount(element.GetRawText()) > _limits.MaxRequestBytes)
                throw new ApiErrorException(ApiError.Validation($"the request is larger than max_request_bytes ({_limits.MaxRequestBytes})"));
            // The REST door's parser: unknown fields, the six rejected fields, typed values, header rules.
            request = CurlRequestJson.Parse(element, _services.Requests.Limits, CurlRequestJsonFlavor.Api);
            if (binaryBody && request.HasBody)
                throw new ApiErrorException(ApiError.Validation("a request with binary_body must not carry 'data', 'json' or 'form'"));
            request = ForSocket(request);
            // The executor's pre-check: URL form, scheme, SSRF of literal and --resolve'd addresses.
            if (_services.Executor.Precheck(request) is { } refused) throw new ApiErrorException(refused);
        }
        catch (ApiErrorException e)
        {
            Metrics.Streams.WithLabels("invalid").Inc();
            await SendAsync(ChannelFrames.Error("validation_error", e.Error.Message, id)).ConfigureAwait(false);
            return;
        }
        if (_streams.Count >= _limits.MaxConcurrentStreams + _limits.MaxQueue)
        {
            Metrics.Streams.WithLabels("queue_full").Inc();
            await SendAsync(ChannelFrames.Error("queue_full", $"per-connection queue is full (max_queue={_limits.MaxQueue})", id)).ConfigureAwait(false);
            return;
        }
        var stream = new ChannelStream(id, binaryBody, _closed.Token, TimeSpan.FromSeconds(_limits.StreamTimeoutSecs));
        _streams[id] = stream;
        await SendAsync(ChannelFrames.Simple("accepted", id)).ConfigureAwait(false);
        // The slot is asked for here, on the receive loop, so queued streams start in the order they came (FIFO).
        Metrics.StreamsQueued.Inc();
        var slot = _slots.WaitAsync(stream.FirstByte);
        stream.Task = Task.Run(() => RunStreamAsync(stream, request, slot));
    }

    /// <summary>
    /// Compression (docs/api.md (Channel)): a text socket lets libcurl decode (the relay then drops the stale
    /// Content-Encoding/Length); a binary socket asks for gzip/deflate itself and passes the bytes through.
    /// </summary>
    private CurlRequest ForSocket(CurlRequest request)
    {
        if (!_limits.Binary) return request.Compressed is null ? request with { Compressed = true } : request;
        if (request.Compressed == true || request.Headers?.Any(h => h.Name.Equals("accept-encoding", StringComparison.OrdinalIgnoreCase)) == true) return request;
        return request with { Headers = [.. request.Headers ?? [], new HeaderEntry("Accept-Encoding", "gzip, deflate")] };
    }

    private async Task OnBinaryAsync(ReadOnlyMemory<byte> frame)
    {
        if (!_limits.Binary)
        {
            await ProtocolError("binary frame on a text socket (connect with binary=true)", null).ConfigureAwait(false);
            return;
        }
        if (BinaryFrame.TryParse(frame.Span, out var header, out var id) is { } problem)
        {
            await ProtocolError(problem, id).ConfigureAwait(false);
            return;
        }
        if (header.Kind != BinaryFrame.KindRequestBody)
        {
            await ProtocolError("clients send only REQUEST_BODY (kind 2) binary frames", header.StreamId).ConfigureAwait(false);
            return;
        }
        // A REQUEST_BODY for a stream waiting for one was streamed by the receive loop; this one is not wanted.
        await ProtocolError($"REQUEST_BODY for stream {header.StreamId}, which is not waiting for a body", header.StreamId).ConfigureAwait(false);
    }

    // ---- one stream -------------------------------------------------------------------------------

    private async Task RunStreamAsync(ChannelStream stream, CurlRequest request, Task slot)
    {
        var id = stream.Id;
        var outcome = "ok";
        var firstByte = stream.FirstByteSource;
        var slotHeld = false;
        IDisposable? permit = null;
        try
        {
            try
            {
                await slot.ConfigureAwait(false);
                slotHeld = true;
                // Then one permit of the process-wide --max-concurrent-sync cap, shared with sync REST requests:
                // while none is free the stream stays queued on its socket (docs/api.md, Channel: FIFO), within
                // stream_timeout_secs like any wait before response.start.
                permit = await _services.SyncLimiter.EnterAsync(firstByte.Token).ConfigureAwait(false);
            }
            finally
            {
                Metrics.StreamsQueued.Dec();
            }
            var execution = new ExecutionOptions { RequestId = Guid.NewGuid().ToString(), Door = "channel" };
            if (stream.AwaitsBody)
            {
                // The transfer starts once the body's first bytes are here; they stream on into libcurl's read callback.
                await stream.UploadStarted.WaitAsync(firstByte.Token).ConfigureAwait(false);
                execution = execution with { UploadBody = stream.Upload!.Reader, UploadLength = stream.UploadLength };
            }
            var upstream = await _services.Executor.SendAsync(request, execution, firstByte.Token).ConfigureAwait(false);
            firstByte.CancelAfter(Timeout.InfiniteTimeSpan); // the head is here: stream_timeout_secs no longer applies
            await using (upstream.ConfigureAwait(false))
            {
                outcome = await DeliverAsync(stream, request, upstream).ConfigureAwait(false);
            }
        }
        catch (ApiErrorException) when (stream.ClientCancelled)
        {
            // The engine's own CANCELLED (the transfer ended by the cancel) can reach the body reader before the
            // cancellation token does: the client asked for it, so it is `cancelled`, never an `error`.
            outcome = "cancelled";
            await TrySendAsync(ChannelFrames.Simple("cancelled", id)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (stream.ClientCancelled)
            {
                outcome = "cancelled";
                await TrySendAsync(ChannelFrames.Simple("cancelled", id)).ConfigureAwait(false);
            }
            else if (_closed.IsCancellationRequested)
            {
                outcome = "aborted";
            }
            else
            {
                outcome = "timeout";
                await TrySendAsync(ChannelFrames.Error("timeout", $"no response within stream_timeout_secs ({_limits.StreamTimeoutSecs}s)", id)).ConfigureAwait(false);
            }
        }
        catch (ApiErrorException e)
        {
            var type = ErrorType(e.Error);
            outcome = type == "validation_error" ? "invalid" : "error";
            await TrySendAsync(ChannelFrames.Error(type, e.Error.Message, id)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            outcome = "error";
            await TrySendAsync(ChannelFrames.Error("internal_error", "the stream failed: " + e.GetType().Name, id)).ConfigureAwait(false);
        }
        finally
        {
            permit?.Dispose();
            if (slotHeld) _slots.Release();
            stream.FailUpload(); // a body still arriving is dropped; libcurl has stopped reading it
            _streams.TryRemove(id, out _);
            stream.Dispose();
            Touch();
            Metrics.Streams.WithLabels(outcome).Inc();
        }
    }

    private async Task TrySendAsync(byte[] frame)
    {
        try { await SendAsync(frame).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        catch (ChannelClosedException) { }
    }

    /// <summary>The channel vocabulary (docs/api.md (Channel)) for an engine error.</summary>
    internal static string ErrorType(ApiError error) => error.Status switch
    {
        >= 400 and < 500 and not 408 => "validation_error", // bad request, SSRF denial, unknown session, too large
        500 => "internal_error",
        _ => "execution_error", // libcurl failures (502), libcurl timeouts (504)
    };

    /// <summary>Sends the response of one stream; returns its outcome label.</summary>
    private async Task<string> DeliverAsync(ChannelStream stream, CurlRequest request, UpstreamResponse upstream)
    {
        var headers = upstream.BodyDecoded ? ResponseHeaders.WithoutEncoding(upstream.Headers) : upstream.Headers;
        if (request.Save == true) return await DeliverSavedAsync(stream, request, upstream, headers).ConfigureAwait(false);
        if (SsePromotion.Applies(_services.Sse, request, upstream)) return await DeliverSseAsync(stream, upstream, headers).ConfigureAwait(false);
        var streaming = _limits.Binary && upstream.StatusCode is >= 200 and < 300 && request.EffectiveMethod != "HEAD"
                        && (upstream.ContentLength is not { } length || length > BufferedBinaryLimit);
        if (streaming) return await DeliverStreamingAsync(stream, upstream, headers).ConfigureAwait(false);
        return await DeliverBufferedAsync(stream, upstream, headers).ConfigureAwait(false);
    }

    private async Task<string> DeliverBufferedAsync(ChannelStream stream, UpstreamResponse upstream, IReadOnlyList<HeaderEntry> headers)
    {
        var token = stream.Token;
        var limit = _services.Requests.MaxResponseBufferBytes;
        var body = new ArrayBufferWriter<byte>(16 * 1024);
        var tooLarge = false;
        try
        {
            while (true)
            {
                var read = await upstream.Body.ReadAsync(token).ConfigureAwait(false);
                if (body.WrittenCount + read.Buffer.Length > limit)
                {
                    tooLarge = true;
                    upstream.Abort();
                    break;
                }
                foreach (var segment in read.Buffer) body.Write(segment.Span);
                upstream.Body.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) break;
            }
        }
        catch (ApiErrorException) when (!token.IsCancellationRequested)
        {
            // The transfer failed mid-body: its completion carries the real error.
        }
        if (tooLarge)
            throw new ApiErrorException(new ApiError(502, ErrorCodes.ResponseTooLarge,
                $"the upstream body is larger than --max-response-buffer-bytes ({limit} bytes)"));
        var result = await upstream.Completion.ConfigureAwait(false);
        if (result.Error is { } error) throw new ApiErrorException(error);
        await SendAsync(ChannelFrames.ResponseStart(stream.Id, upstream, headers, body.WrittenCount, false)).ConfigureAwait(false);
        var bytes = body.WrittenMemory;
        var chunk = _limits.ChunkBytes;
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            var piece = bytes.Span.Slice(offset, Math.Min(chunk, bytes.Length - offset));
            var last = offset + piece.Length >= bytes.Length;
            int length;
            if (_limits.Binary)
            {
                var frame = BinaryFrame.Rent(BinaryFrame.KindBody, last ? BinaryFrame.FlagLast : (ushort)0, stream.Id, piece, out length);
                await SendPooledAsync(stream, frame, length, true, token).ConfigureAwait(false);
            }
            else
            {
                var frame = ChannelFrames.RentBody(stream.Id, offset, piece, out length);
                await SendPooledAsync(stream, frame, length, false, token).ConfigureAwait(false);
            }
        }
        await SendAsync(ChannelFrames.End(stream.Id, result.Info, upstream, null)).ConfigureAwait(false);
        return "ok";
    }

    /// <summary>
    /// Binary socket, 2xx, large or unknown length: bytes go out as libcurl delivers them, in frames of at
    /// most chunk_bytes, without waiting to fill a chunk (a slow upstream is relayed as it trickles). The
    /// end is a zero-length BODY frame with LAST (docs/api.md (Channel)), then response.end.
    /// </summary>
    private async Task<string> DeliverStreamingAsync(ChannelStream stream, UpstreamResponse upstream, IReadOnlyList<HeaderEntry> headers)
    {
        var token = stream.Token;
        await SendAsync(ChannelFrames.ResponseStart(stream.Id, upstream, headers, upstream.ContentLength ?? 0, false)).ConfigureAwait(false);
        var chunk = _limits.ChunkBytes;
        var gather = Math.Min(chunk, CoalesceBytes);
        try
        {
            while (true)
            {
                // Coalescing: while earlier frames of this stream still wait in the outbound queue, gather `gather`
                // bytes instead of sending every 16 KiB libcurl write as its own frame. ReadAtLeastAsync wakes this task
                // only once that much is in the pipe (not on every libcurl write); the writer wakes it earlier
                // (CancelPendingRead) when the stream's last queued frame is sent, so a trickling body is never held
                // back behind an idle socket. HoldFor comes first: a frame sent in between leaves a pending cancel.
                stream.HoldFor(upstream.Body);
                var read = stream.FramesQueued > 0
                    ? await upstream.Body.ReadAtLeastAsync(gather, token).ConfigureAwait(false)
                    : await upstream.Body.ReadAsync(token).ConfigureAwait(false);
                stream.HoldFor(null);
                var buffer = read.Buffer;
                while (!buffer.IsEmpty)
                {
                    // One copy, from the engine's pipe into a pooled frame; the writer returns it to the pool once sent.
                    var size = (int)Math.Min(chunk, buffer.Length);
                    var frame = BinaryFrame.Rent(BinaryFrame.KindBody, 0, stream.Id, buffer.Slice(0, size), out var length);
                    buffer = buffer.Slice(size);
                    await SendPooledAsync(stream, frame, length, true, token).ConfigureAwait(false);
                }
                upstream.Body.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) break;
            }
        }
        catch (ApiErrorException) when (!token.IsCancellationRequested)
        {
            // Failed mid-body: reported below from the completion.
        }
        var result = await upstream.Completion.ConfigureAwait(false);
        if (result.Error is { } error) throw new ApiErrorException(error);
        await SendBodyAsync(stream, BinaryFrame.Encode(BinaryFrame.KindBody, BinaryFrame.FlagLast, stream.Id, []), true, token).ConfigureAwait(false);
        await SendAsync(ChannelFrames.End(stream.Id, result.Info, upstream, null)).ConfigureAwait(false);
        return "ok";
    }

    /// <summary>
    /// `save: true` (docs/api.md (Storage), as on REST): the body streams into storage under a new id instead of to the
    /// client; response.start (body_bytes 0, no body frames) and response.end, which adds
    /// `saved: {id, path, paths, size}`. A failure (transfer, max_filesize, disk) leaves no file and is the
    /// stream's error.
    /// </summary>
    private async Task<string> DeliverSavedAsync(ChannelStream stream, CurlRequest request, UpstreamResponse upstream, IReadOnlyList<HeaderEntry> headers)
    {
        HoodyCurl.Storage.StoredFile saved;
        try
        {
            saved = await _services.Files.SaveAsync(Guid.NewGuid().ToString(), request.SavePath, request.Url, upstream.Body, request.MaxFilesize, stream.Token).ConfigureAwait(false);
        }
        catch (ApiErrorException)
        {
            upstream.Abort();
            throw;
        }
        var result = await upstream.Completion.ConfigureAwait(false);
        if (result.Error is { } error) throw new ApiErrorException(error);
        await SendAsync(ChannelFrames.ResponseStart(stream.Id, upstream, headers, 0, false)).ConfigureAwait(false);
        await SendAsync(ChannelFrames.End(stream.Id, result.Info, upstream, null, saved)).ConfigureAwait(false);
        return "ok";
    }

    /// <summary>SSE promotion (docs/api.md (Channel)): one permit of --max-sse-concurrent, typed events, capped by --sse-max-duration-secs.</summary>
    private async Task<string> DeliverSseAsync(ChannelStream stream, UpstreamResponse upstream, IReadOnlyList<HeaderEntry> headers)
    {
        using var permit = _services.Capacity.TryAcquire(SseKinds.Channel);
        if (permit is null)
        {
            upstream.Abort();
            var aborted = await upstream.Completion.ConfigureAwait(false);
            await SendAsync(ChannelFrames.Error("sse_capacity", _services.Capacity.Refusal().Message, stream.Id)).ConfigureAwait(false);
            await SendAsync(ChannelFrames.End(stream.Id, aborted.Info, upstream, 0)).ConfigureAwait(false);
            return "sse_capacity";
        }
        upstream.Promote();
        await SendAsync(ChannelFrames.ResponseStart(stream.Id, upstream, headers, 0, true)).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stream.Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(_services.Sse.MaxDurationSecs));
        var parser = new SseEventParser();
        var events = new List<SseEventParser.SseEvent>();
        long seq = 0;
        try
        {
            while (true)
            {
                ReadResult read;
                try
                {
                    read = await upstream.Body.ReadAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (ApiErrorException) when (!deadline.IsCancellationRequested)
                {
                    break; // failed mid-stream: reported from the completion
                }
                foreach (var segment in read.Buffer) parser.Feed(segment.Span, events);
                upstream.Body.AdvanceTo(read.Buffer.End);
                foreach (var e in events) await SendBodyAsync(stream, ChannelFrames.SseEvent(stream.Id, seq++, e), false, deadline.Token).ConfigureAwait(false);
                events.Clear();
                if (read.IsCompleted) break;
            }
        }
        catch (OperationCanceledException) when (!stream.Token.IsCancellationRequested)
        {
            upstream.Abort();
            await SendAsync(ChannelFrames.Error("sse_max_duration", $"the stream reached --sse-max-duration-secs ({_services.Sse.MaxDurationSecs}s)", stream.Id)).ConfigureAwait(false);
            return "sse_max_duration";
        }
        var result = await upstream.Completion.ConfigureAwait(false);
        if (result.Error is { } error) throw new ApiErrorException(error);
        await SendAsync(ChannelFrames.End(stream.Id, result.Info, upstream, seq)).ConfigureAwait(false);
        return "ok";
    }

    /// <summary>One outbound message: the first <see cref="Length"/> bytes of <see cref="Data"/>; <see cref="Pooled"/> buffers go back to ArrayPool once sent.</summary>
    private readonly record struct Outbound(byte[] Data, int Length, bool Binary, ChannelStream? Owner, bool Pooled);
}

/// <summary>One stream of a socket: its id, its cancellation, its upload body and its outbound quota.</summary>
internal sealed class ChannelStream : IDisposable
{
    private readonly CancellationTokenSource _cts;

    public ChannelStream(ulong id, bool awaitsBody, CancellationToken connection, TimeSpan firstByteBudget)
    {
        Id = id;
        AwaitsBody = awaitsBody;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(connection);
        FirstByteSource = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
        if (awaitsBody) Upload = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        FirstByteSource.CancelAfter(firstByteBudget);
    }

    /// <summary>Cancelled by the stream's own cancellation or when stream_timeout_secs passes before response.start.</summary>
    public CancellationTokenSource FirstByteSource { get; }
    public CancellationToken FirstByte => FirstByteSource.Token;

    public ulong Id { get; }
    public bool AwaitsBody { get; }
    private readonly TaskCompletionSource _uploadStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _uploadBegun;
    private long _uploadLength = -1;

    /// <summary>The streamed upload (binary_body): never blocks the receive loop; its size is bounded by max_frame_bytes.</summary>
    public Pipe? Upload { get; } 
    public Task UploadStarted => _uploadStarted.Task;
    /// <summary>The body's length when it had fully arrived before the transfer started (Content-Length), else null (chunked).</summary>
    public long? UploadLength => Interlocked.Read(ref _uploadLength) is >= 0 and var n ? n : null;

    /// <summary>True once, for the first REQUEST_BODY of a stream that waits for one.</summary>
    public bool TryBeginUpload()
    {
        if (Upload is null || Interlocked.Exchange(ref _uploadBegun, 1) != 0) return false;
        return true;
    }

    public void WriteUpload(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        Upload!.Writer.Write(bytes);
        _ = Upload.Writer.FlushAsync(); // never blocks: the pipe has no pause threshold
        _uploadStarted.TrySetResult();
    }

    public void EndUpload(long length)
    {
        Interlocked.Exchange(ref _uploadLength, length);
        try { Upload!.Writer.Complete(); } catch (InvalidOperationException) { }
        _uploadStarted.TrySetResult();
    }

    /// <summary>Ends an unfinished upload with an error (socket closed, oversize, stream over).</summary>
    public void FailUpload()
    {
        if (Upload is null) return;
        try { Upload.Writer.Complete(new OperationCanceledException("the upload was cut short")); } catch (InvalidOperationException) { }
    }
    public SemaphoreSlim Quota { get; } = new(ChannelConnection.StreamQuota, ChannelConnection.StreamQuota);
    private PipeReader? _held;

    /// <summary>Body frames of this stream waiting in the outbound queue now.</summary>
    public int FramesQueued => ChannelConnection.StreamQuota - Quota.CurrentCount;

    /// <summary>Marks the body reader as waiting for more bytes (null: not waiting) so a sent frame can wake it.</summary>
    public void HoldFor(PipeReader? reader) => Volatile.Write(ref _held, reader);

    /// <summary>The writer sent one of this stream's frames: its quota token comes back; a coalescing read is woken when none is left queued.</summary>
    public void OnFrameSent()
    {
        Quota.Release();
        if (FramesQueued != 0 || Volatile.Read(ref _held) is not { } reader) return;
        try { reader.CancelPendingRead(); }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException) { } // the body already ended
    }
    public CancellationToken Token => _cts.Token;
    public bool ClientCancelled { get; private set; }
    public Task? Task { get; set; }

    public void Cancel()
    {
        ClientCancelled = true;
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        FirstByteSource.Dispose();
        _cts.Dispose();
    }
}
