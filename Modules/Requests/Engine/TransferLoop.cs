// One transfer thread: owns a curl_multi handle and drives it with curl_multi_socket_action on its own
// epoll set. Everything that touches a libcurl handle happens here; other threads only Post commands and
// wake the loop through an eventfd. No thread blocks per request, so hundreds of concurrent streams cost
// no threads, and a wakeup costs work only for the sockets that are ready (curl_multi_perform +
// curl_multi_poll walked every handle and rebuilt a pollfd array on every turn; issue 13).
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
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
    private const int MaxEvents = 256;
    /// <summary>Longest epoll wait when libcurl has no timer: the pool is trimmed at least this often.</summary>
    private const int IdleWaitMs = 1000;

    private readonly ConcurrentQueue<LoopCommand> _commands = new();

    /// <summary>Response header values by known name, for the header callback (this loop's thread only).</summary>
    internal HeaderValueCache HeaderValues { get; } = new();
    private readonly Dictionary<nint, Transfer> _active = [];
    /// <summary>What epoll watches now, per socket.</summary>
    private readonly Dictionary<int, uint> _watched = [];
    /// <summary>What libcurl asked for since the last wait (0 = remove).</summary>
    private readonly Dictionary<int, uint> _wanted = [];
    /// <summary>Sockets libcurl stopped watching that stay registered in epoll (a kept-alive connection between requests).</summary>
    private readonly HashSet<int> _parked = [];
    /// <summary>
    /// Starts that found this loop full while the process is CPU-saturated (--max-busy-transfers), oldest first. At 256
    /// callers of 1 KiB bodies on one core the loop otherwise ran ~256 transfers at once in waves, each step of each
    /// transfer touching state that had left the CPU caches since its previous step; 32 at a time cost 0.86x the CPU per
    /// request (bench/paired.py, 8 rounds, issue 13). The limit applies only while the process has no CPU to spare, and
    /// counts only young transfers (see <see cref="Room"/>): slow upstreams, streams and downloads never keep other
    /// requests waiting for long.
    /// </summary>
    private readonly Queue<Transfer> _waiting = new();
    /// <summary>Started transfers in start order, while they may still be young.</summary>
    private readonly Queue<Transfer> _startOrder = new();
    private int _young;
    private readonly long _youngEvents, _windowTicks;
    /// <summary>The loop's events since it started: socket events handed to libcurl, and starts.</summary>
    private long _events;
    /// <summary>Whether the limit applies: set at BusyCpuShare, cleared below BusyCpuShareOff (a window's dip does not flap it).</summary>
    private bool _saturated;
    /// <summary>The current window's start (Stopwatch ticks) and the process's CPU time then.</summary>
    private long _windowStart = Stopwatch.GetTimestamp();
    private TimeSpan _windowCpu;
    private readonly List<Transfer> _headsToSignal = [];
    private readonly List<Transfer> _toFlush = [];
    private readonly RequestsOptions _options;
    private readonly EngineMetrics _metrics;
    private readonly HandlePool _pool;
    private readonly nint _resolveList;
    /// <summary>Parsed URLs for CURLOPT_CURLU (this loop's thread only).</summary>
    internal UrlCache Urls { get; } = new();
    /// <summary>The header list of a request that adds no header and no User-Agent of its own (TransferSetup.ApplyHeaders).</summary>
    internal nint DefaultHeaders { get; }
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly nint _multi;
    private readonly int _epoll;
    private readonly int _wakeFd;
    private GCHandle _self;
    private long _maxConnects;
    /// <summary>When libcurl wants curl_multi_socket_action(TIMEOUT) next (Environment.TickCount64 ms), or -1.</summary>
    private long _timerDue = -1;
    /// <summary>1 while a wakeup is pending: a Post then skips the eventfd write (the loop drains before it sleeps).</summary>
    private int _wakePending;
    private volatile bool _stopping;

    internal EngineMetrics Metrics => _metrics;

    /// <summary>The close-socket callback and its data (this loop), set on every handle the loop runs.</summary>
    internal static readonly nint CloseSocketCallback = (nint)(delegate* unmanaged[Cdecl]<nint, int, int>)&OnCloseSocket;
    internal nint CallbackData => GCHandle.ToIntPtr(_self);

    public TransferLoop(int index, RequestsOptions options, EngineMetrics metrics, PoolBudget budget, nint resolveList, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _resolveList = resolveList;
        _logger = logger;
        _pool = new HandlePool(options.PoolPerOrigin, options.PoolGlobal, metrics, budget);
        DefaultHeaders = LibCurl.curl_slist_append(LibCurl.curl_slist_append(0, TransferSetup.UserAgentLine(options.DefaultUserAgent)), "Expect:");
        _multi = LibCurl.curl_multi_init();
        _epoll = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        _wakeFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (_multi == 0 || _epoll < 0 || _wakeFd < 0)
            throw new InvalidOperationException($"transfer loop set-up failed (multi={_multi}, epoll={_epoll}, eventfd={_wakeFd}, errno={Marshal.GetLastPInvokeError()})");
        var wake = new LibC.EpollEvent { Events = LibC.EPOLLIN, Data = unchecked((ulong)(long)-1) };
        LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_ADD, _wakeFd, &wake);
        _self = GCHandle.Alloc(this);
        LibCurl.MultiSetPtr(_multi, CurlMOpt.SOCKETFUNCTION, (nint)(delegate* unmanaged[Cdecl]<nint, int, int, nint, nint, int>)&OnSocket);
        LibCurl.MultiSetPtr(_multi, CurlMOpt.SOCKETDATA, GCHandle.ToIntPtr(_self));
        LibCurl.MultiSetPtr(_multi, CurlMOpt.TIMERFUNCTION, (nint)(delegate* unmanaged[Cdecl]<nint, long, nint, int>)&OnTimer);
        LibCurl.MultiSetPtr(_multi, CurlMOpt.TIMERDATA, GCHandle.ToIntPtr(_self));
        // A fixed connection cache instead of libcurl's default (4 × the handles attached at the moment): the
        // default shrank whenever transfers ended, closing connections the next requests re-opened: 57–81 new
        // upstream connections per 1,000 requests at 32 callers before, ~0 after (bench/RESULTS.md, issue 13).
        // It grows with concurrency (SetMaxConnects) and never below --pool-connections.
        _maxConnects = options.PoolConnections;
        _saturated = options.BusyCpuShare <= 0; // tests: the limit applies from the first start
        _windowCpu = options.ProcessCpuTime();
        _youngEvents = (long)Math.Min(long.MaxValue / 2, options.BusyTransferEvents * Math.Max(1, options.MaxBusyTransfers));
        _windowTicks = (long)(options.BusyWindow.TotalSeconds * Stopwatch.Frequency);
        LibCurl.MultiSetLong(_multi, CurlMOpt.MAXCONNECTS, _maxConnects);
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
        Wake();
    }

    private void Wake()
    {
        // Skip the syscall when a wakeup is already on its way (the loop resets the flag, then drains).
        if (Interlocked.Exchange(ref _wakePending, 1) != 0) return;
        ulong one = 1;
        LibC.write(_wakeFd, &one, sizeof(ulong));
    }

    private void Run()
    {
        var events = (LibC.EpollEvent*)NativeMemory.Alloc((nuint)(MaxEvents * sizeof(LibC.EpollEvent)));
        try
        {
            while (true)
            {
                Turns++;
                // A full fence, not a plain store: the queue read in Drain must not move ahead of the reset,
                // or a Post that saw the old flag (and skipped the eventfd) would go unseen until the next event.
                Interlocked.Exchange(ref _wakePending, 0);
                Drain();
                if (_stopping)
                {
                    // Shutdown past the host's grace period: whatever still runs is cancelled.
                    foreach (var t in _active.Values.ToArray()) Finish(t, Cancelled, bypass: "cancellation");
                    EndTurn();
                    if (_commands.IsEmpty && _waiting.Count == 0) break; // waiting starts are answered by the next Drain
                }
                RunDueTimer();
                ReadFinished();
                EndTurn();
                _pool.Trim();

                ApplyWatches();
                var n = LibC.epoll_wait(_epoll, events, MaxEvents, WaitMs());
                if (_options.MaxBusyTransfers > 0) MeasureLoad(Stopwatch.GetTimestamp());
                for (var i = 0; i < n; i++)
                {
                    var fd = (int)(long)events[i].Data;
                    if (fd < 0)
                    {
                        ulong count;
                        LibC.read(_wakeFd, &count, sizeof(ulong)); // reset the eventfd; the commands are drained next turn
                        continue;
                    }
                    if (_parked.Contains(fd))
                    {
                        // An idle connection libcurl is not watching stirred (closed by the server, or stray bytes):
                        // unregistered now, so a level-triggered event cannot wake the loop again. libcurl's own
                        // check finds the connection dead when it next looks at it.
                        Unregister(fd);
                        continue;
                    }
                    var e = events[i].Events;
                    var mask = ((e & LibC.EPOLLIN) != 0 ? CurlMOpt.CSELECT_IN : 0)
                        | ((e & LibC.EPOLLOUT) != 0 ? CurlMOpt.CSELECT_OUT : 0)
                        | ((e & (LibC.EPOLLERR | LibC.EPOLLHUP)) != 0 ? CurlMOpt.CSELECT_ERR : 0);
                    LibCurl.curl_multi_socket_action(_multi, fd, mask, out _);
                    _events++;
                }
                // Heads, bodies and completions of this turn go out together: a transfer that ended within it
                // hands its caller the head with the body and the result already in place, one thread-pool
                // work item instead of one per step.
                ReadFinished();
                EndTurn();
            }
            _pool.Clear();
            LibCurl.curl_multi_cleanup(_multi);
            Urls.Dispose();
            LibCurl.curl_slist_free_all(DefaultHeaders);
        }
        finally
        {
            NativeMemory.Free(events);
            LibC.close(_epoll);
            LibC.close(_wakeFd);
            if (_self.IsAllocated) _self.Free();
        }
    }

    private int WaitMs()
    {
        if (!_commands.IsEmpty) return 0;
        if (_waiting.Count > 0) return 1; // waiting starts: a socket event, or the load measured again within a millisecond
        var due = _timerDue;
        if (due < 0) return IdleWaitMs;
        var left = due - Environment.TickCount64;
        return left <= 0 ? 0 : (int)Math.Min(left, IdleWaitMs);
    }

    private void RunDueTimer()
    {
        var due = _timerDue;
        if (due < 0 || due > Environment.TickCount64) return;
        _timerDue = -1;
        LibCurl.curl_multi_socket_action(_multi, CurlMOpt.SOCKET_TIMEOUT, 0, out _);
    }

    /// <summary>Called by a transfer (loop thread) when its final head is complete: signalled at the end of the turn.</summary>
    internal void HeadReady(Transfer t) => _headsToSignal.Add(t);

    /// <summary>Called by a transfer (loop thread) when it wrote body bytes: flushed at the end of the turn.</summary>
    internal void FlushAtEndOfTurn(Transfer t) => _toFlush.Add(t);

    /// <summary>
    /// The end of a turn: written bodies are flushed first, then heads signalled, so a caller woken by its head
    /// finds the body (and, for a transfer that ended within the turn, the result) already there.
    /// </summary>
    private void EndTurn()
    {
        if (_toFlush.Count > 0)
        {
            foreach (var t in _toFlush) t.Flush();
            _toFlush.Clear();
        }
        if (_headsToSignal.Count > 0)
        {
            foreach (var t in _headsToSignal) t.SignalHead();
            _headsToSignal.Clear();
        }
    }

    /// <summary>int socket_callback(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp).</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnSocket(nint easy, int socket, int what, nint userData, nint socketData)
    {
        try
        {
            ((TransferLoop)GCHandle.FromIntPtr(userData).Target!).Watch(socket, what);
            return 0;
        }
        catch (Exception)
        {
            return -1;
        }
    }

    /// <summary>
    /// Records the interest libcurl asks for; <see cref="ApplyWatches"/> tells epoll just before the loop waits.
    /// A kept-alive connection is handed from a finished transfer to the next within two turns: libcurl removes
    /// its socket, then adds it again. Applied at once, that was two epoll_ctl calls per request (3.6% of the
    /// process's CPU at 1 KiB; perf, issue 13); netted before the wait, mostly none.
    /// </summary>
    private void Watch(int socket, int what) =>
        _wanted[socket] = what == CurlMOpt.POLL_REMOVE ? 0
            : ((what & CurlMOpt.POLL_IN) != 0 ? LibC.EPOLLIN : 0) | ((what & CurlMOpt.POLL_OUT) != 0 ? LibC.EPOLLOUT : 0);

    /// <summary>
    /// Brings epoll in line with what libcurl asked for. A socket libcurl stops watching is parked, not removed: a
    /// kept-alive connection is released when its transfer ends and taken again by the next request on that origin,
    /// often a turn later, and removing then re-adding it cost two epoll_ctl per request (2.9 µs of ~134 at 1 KiB and
    /// 32 callers; perf, issue 13). A parked socket that reports an event is removed then (see Run), and a socket
    /// libcurl closes is forgotten first (<see cref="OnCloseSocket"/>), so a reused descriptor number is always added
    /// afresh, never taken for the registration of the closed one.
    /// </summary>
    private void ApplyWatches()
    {
        if (_wanted.Count == 0) return;
        foreach (var (socket, events) in _wanted)
        {
            var known = _watched.TryGetValue(socket, out var current);
            if (events == 0)
            {
                if (known) _parked.Add(socket);
                continue;
            }
            _parked.Remove(socket);
            if (known && current == events) continue;
            var ev = new LibC.EpollEvent { Events = events, Data = (ulong)socket };
            if (!known)
            {
                if (LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_ADD, socket, &ev) != 0 && Marshal.GetLastPInvokeError() == LibC.EEXIST)
                    LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_MOD, socket, &ev);
            }
            else if (LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_MOD, socket, &ev) != 0 && Marshal.GetLastPInvokeError() == LibC.ENOENT)
            {
                LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_ADD, socket, &ev); // defensive: the registration went away meanwhile
            }
            _watched[socket] = events;
        }
        _wanted.Clear();
    }

    private void Unregister(int socket)
    {
        _parked.Remove(socket);
        if (_watched.Remove(socket)) LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, socket, null);
    }

    /// <summary>
    /// int closesocket_callback(void *clientp, curl_socket_t item): libcurl closes a socket it opened (through
    /// Transfer.OnOpenSocket) here. Every record of the descriptor goes before close(2) frees its number (closing
    /// also drops it from epoll), so the next socket given that number is registered from scratch. Set on every
    /// handle with this loop as its data: a connection keeps the callback of the handle that opened it and may
    /// be closed long after that transfer ended, never after the loop.
    /// </summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnCloseSocket(nint userData, int socket)
    {
        try
        {
            ((TransferLoop)GCHandle.FromIntPtr(userData).Target!).Forget(socket);
        }
        catch (Exception)
        {
            // the descriptor is closed whatever happened
        }
        return LibC.close(socket) == 0 ? 0 : 1;
    }

    private void Forget(int socket)
    {
        _watched.Remove(socket);
        _parked.Remove(socket);
        _wanted.Remove(socket);
        SocketsClosed++;
    }

    /// <summary>Turns of the loop since it started (read by tests: an idle loop turns about once a second).</summary>
    internal long Turns { get => Volatile.Read(ref _turns); private set => Volatile.Write(ref _turns, value); }
    private long _turns;

    /// <summary>Sockets libcurl closed through <see cref="OnCloseSocket"/> (loop thread; read by tests).</summary>
    internal long SocketsClosed { get => Volatile.Read(ref _socketsClosed); private set => Volatile.Write(ref _socketsClosed, value); }
    private long _socketsClosed;

    /// <summary>int timer_callback(CURLM *multi, long timeout_ms, void *userp): -1 deletes the timer.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnTimer(nint multi, long timeoutMs, nint userData)
    {
        var loop = (TransferLoop)GCHandle.FromIntPtr(userData).Target!;
        loop._timerDue = timeoutMs < 0 ? -1 : Environment.TickCount64 + timeoutMs;
        return 0;
    }

    private void Drain()
    {
        var room = Room();
        while (room > 0 && _waiting.TryDequeue(out var next))
        {
            if (!next.WaitingForRoom) continue; // cancelled while it waited, and answered then (Cancel)
            next.WaitingForRoom = false;
            _metrics.Waiting.Dec();
            if (_stopping) next.MarkCancelled(); // Start answers it without running it
            room--;
            Execute(new LoopCommand(LoopCommandKind.Start, next));
        }
        while (_commands.TryDequeue(out var command))
        {
            if (command.Kind == LoopCommandKind.Start)
            {
                if (room <= 0)
                {
                    command.Transfer.WaitingForRoom = true;
                    _waiting.Enqueue(command.Transfer);
                    _metrics.Waiting.Inc();
                    continue;
                }
                room--;
            }
            Execute(command);
        }
    }

    /// <summary>
    /// How many transfers this turn may start. While the process has CPU to spare (under BusyCpuShare of its cores over the
    /// last BusyWindow), all of them: bounding concurrency then only delays requests (Little's law: 100 ms upstreams at
    /// 2,400 requests/s need ~240 at once, and a cap on them cost 14% of that throughput). While it is saturated, up to
    /// the limit, less the young transfers: those started fewer than BusyTransferEvents × limit of the loop's events ago
    /// (socket events and starts) and still running, so streams and downloads stop holding others back. Starts count so
    /// that a young transfer with no socket event around it still ages, and this queue stays short.
    /// </summary>
    private int Room()
    {
        var limit = _options.MaxBusyTransfers;
        if (limit <= 0 || _stopping) return int.MaxValue;
        while (_startOrder.TryPeek(out var oldest) && (!oldest.Young || _events - oldest.StartedAt >= _youngEvents))
        {
            _startOrder.Dequeue();
            if (oldest.Young) { oldest.Young = false; _young--; }
        }
        // Not saturated: new starts go at once; what still waits from a saturated spell goes a batch per turn, not all in
        // one wave (a dip of one window otherwise let ~190 start together).
        if (!_saturated) return _waiting.Count > 0 ? limit : int.MaxValue;
        return limit - _young;
    }

    /// <summary>Closes the measuring window once it spans BusyWindow: the process's CPU time over it, per core it may use.</summary>
    private void MeasureLoad(long now)
    {
        var span = now - _windowStart;
        if (span < _windowTicks) return;
        var cpu = _options.ProcessCpuTime();
        var share = (cpu - _windowCpu).TotalSeconds / ((double)span / Stopwatch.Frequency * Environment.ProcessorCount);
        _saturated = share >= (_saturated ? _options.BusyCpuShareOff : _options.BusyCpuShare);
        _windowStart = now;
        _windowCpu = cpu;
    }

    private void Execute(LoopCommand command)
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
            t.Easy = _pool.Take(t.PoolKey, out var warm);
            t.HandleWarm = warm;
        }
        t.Pin();
        TransferSetup.Apply(t, _options, _resolveList);
        var code = LibCurl.curl_multi_add_handle(_multi, t.Easy);
        if (code != 0) throw new InvalidOperationException($"curl_multi_add_handle failed with {code}");
        _active[t.Easy] = t;
        _metrics.Active.Inc();
        if (_options.MaxBusyTransfers > 0)
        {
            t.Young = true;
            t.StartedAt = _events++;
            _startOrder.Enqueue(t);
            _young++;
        }
        // Every running transfer holds a connection: the cache must keep at least that many open.
        if (_active.Count > _maxConnects)
        {
            _maxConnects = Math.Max(_maxConnects * 2, _active.Count);
            LibCurl.MultiSetLong(_multi, CurlMOpt.MAXCONNECTS, _maxConnects);
        }
    }

    private static bool UsesCookieEngine(Transfer t) => t.Options.LoadCookies is not null || t.Options.CaptureCookies;

    private void Cancel(Transfer t)
    {
        t.MarkCancelled();
        if (t.WaitingForRoom)
        {
            // Still queued for room: answered now; Drain drops it when its turn comes.
            t.WaitingForRoom = false;
            _metrics.Waiting.Dec();
            Interlocked.Decrement(ref _load);
            t.Complete(Cancelled, TransferInfo.Empty, null);
            return;
        }
        if (t.Easy == 0 || !_active.ContainsKey(t.Easy)) return; // not started yet (Start will see it) or already done
        Finish(t, Cancelled, bypass: "cancellation");
    }

    /// <summary>The finished transfers of one turn, read off libcurl's message queue before any is removed.</summary>
    private readonly List<(nint Easy, int Result)> _done = new(64);

    private void ReadFinished()
    {
        // Every message is read before the first handle is removed: curl_multi_remove_handle walks the unread
        // messages to drop the removed handle's, so removing while reading cost O(k²) for k transfers finished in
        // one turn — 0.7 µs per request at 256 callers (libcurl 7.88 by perf, issue 13), nothing at 32.
        while (true)
        {
            var message = LibCurl.curl_multi_info_read(_multi, out _);
            if (message == null) break;
            if (message->Msg == CurlConst.MSG_DONE) _done.Add((message->EasyHandle, message->Result));
        }
        try
        {
            foreach (var (easy, result) in _done)
            {
                if (!_active.TryGetValue(easy, out var t)) continue;
                t.CurlResult = result;
                var error = ErrorOf(t, result);
                Finish(t, error, bypass: t.ReaderGone ? "cancellation" : t.Promoted ? "promoted" : null);
            }
        }
        finally
        {
            _done.Clear();
        }
    }

    /// <summary>The upstream address of the last finished transfer: the next one's is usually the same string.</summary>
    private string? _lastPrimaryIp;

    private void Finish(Transfer t, ApiError? error, string? bypass)
    {
        var easy = t.Easy;
        var info = TransferInfo.Empty;
        IReadOnlyList<string>? cookies = null;
        if (easy != 0)
        {
            info = TransferFacts.Read(easy, t.DeliveredHead, _lastPrimaryIp);
            if (info.PrimaryIp is not null) _lastPrimaryIp = info.PrimaryIp;
            if (t.Options.CaptureCookies && error is null) cookies = TransferFacts.Cookies(easy);
            // An unfinished or failed transfer leaves its connection in an unknown state: never reuse it.
            if (error is not null && _active.ContainsKey(easy)) t.ForbidReuse();
            if (t.Young) { t.Young = false; _young--; }
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
            else _pool.Put(t.PoolKey, easy, t.HandleDirty);
            t.Easy = 0;
            if (t.ErrorBuffer != 0) { NativeMemory.Free((void*)t.ErrorBuffer); t.ErrorBuffer = 0; }
        }
        // After the handle left the multi: libcurl reads the parsed URL only while the transfer runs.
        if (t.ParsedUrl is { } parsed) { Urls.Release(parsed); t.ParsedUrl = null; }
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
        Volatile.Write(ref _wakePending, 0);
        Wake();
        _thread.Join(TimeSpan.FromSeconds(5));
    }
}
