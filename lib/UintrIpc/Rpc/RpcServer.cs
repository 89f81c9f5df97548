using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using UintrIpc.Bootstrap;
using UintrIpc.Metrics;

namespace UintrIpc.Rpc;

// The accept thread only accepts; each session's own thread reads its hello (bounded by
// HelloTimeout), so a slow or hostile client holds up nobody else (uintripc_rpc.h sections 6,
// 7). Handlers are frozen at Start, so lookups take no lock.

/// <summary>
/// A request/response server over shared memory: clients connect through a bootstrap socket,
/// each gets a session with its own region; handlers are registered per opcode.
/// </summary>
/// <example>
/// <!-- snippet-context server
/// static long SlowWork(ReadOnlySpan<byte> input) => input.Length;
/// -->
/// <!-- snippet: fragment server -->
/// <code>
/// using var server = new RpcServer();
/// server.Map(1, static (ref RpcRequest r) => r.Args.A0 + r.Args.A1);     // runs on the session thread
/// server.MapBlocking(2, static (ref RpcRequest r) => SlowWork(r.Input));  // runs on the worker pool
/// server.Start("@my-service");
/// </code>
/// </example>
public sealed class RpcServer : IDisposable
{
    private const uint SmallOpcodes = 1024;
    private readonly Dictionary<uint, (RpcHandler Handler, bool Blocking)> _mapping = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly HashSet<RpcServerSession> _sessions = [];
    private readonly List<Thread> _sessionThreads = [];
    private FrozenDictionary<uint, (RpcHandler Handler, bool Blocking)>? _handlers;
    private (RpcHandler? Handler, bool Blocking)[] _smallOpcodes = [];
    private BootstrapServer? _listener;
    private Thread? _acceptThread;
    private long _nextSessionId;
    private long _sessionsOpened, _sessionsClosed, _handshakesFailed, _requests, _unknownOpcodes, _badBlocks, _handlerFailures, _protocolViolations;
    private int _disposed;

    /// <summary>Creates a server; map handlers, then <see cref="Start"/> it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NotSupportedException"><see cref="RpcServerOptions.Doorbells"/> names a signal or uintr doorbell (RPC sessions cannot use them).</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="RpcServerOptions.Doorbells"/> names a doorbell this machine cannot ring (see <see cref="Channels.IpcChannel.IsDoorbellAvailable"/>); the message says why and what to do.</exception>
    public RpcServer(RpcServerOptions? options = null)
    {
        Options = options ?? new RpcServerOptions();
        Options.Validate();
        Epoch = NewEpoch();
    }

    /// <summary>Raised on the session's thread after a client completed the handshake (set <see cref="RpcSession.State"/> here).</summary>
    public event EventHandler<RpcSession>? SessionOpened;

    /// <summary>
    /// Raised once a session has ended and no handler of it runs any more: release what the
    /// application holds for the client (its files, say). Raised on whichever thread let go of the
    /// session last: its session thread or a worker, mostly; the thread of <see cref="Dispose"/> or
    /// of a wake-statistics read;
    /// or the watcher that notices a client's exit, shared by every session of the process, so a
    /// slow subscriber there delays noticing other clients' exits: hand long work to another thread.
    /// <see cref="RpcSession.CloseReason"/> says why the session ended.
    /// </summary>
    public event EventHandler<RpcSession>? SessionClosed;

    /// <summary>
    /// Raised when a handler throws, on the thread that ran it, before its answer goes out (-errno of a
    /// <see cref="UintrIpcException"/>, else -EIO); the sender is the call's <see cref="RpcSession"/>.
    /// The library keeps nothing else of the exception: log it here. Also raised when a
    /// <see cref="SessionOpened"/> subscriber throws (that session ends, its calls fail with
    /// <see cref="RpcConnectionLostException"/>) or a <see cref="SessionClosed"/> subscriber throws;
    /// either way the server serves on. An exception thrown by a subscriber of this event is dropped.
    /// </summary>
    public event EventHandler<Exception>? HandlerFailed;

    /// <summary>The options.</summary>
    public RpcServerOptions Options { get; }

    /// <summary>Random, non-zero, new for every server instance: a client can tell a restarted server by it.</summary>
    public ulong Epoch { get; }

    /// <summary>Where the server listens, once started.</summary>
    public string? Endpoint => _listener?.Endpoint;

    /// <summary>The sessions open now.</summary>
    public IReadOnlyList<RpcSession> Sessions
    {
        get
        {
            lock (_lock)
            {
                return [.. _sessions.Select(s => s.Session).OfType<RpcSession>()];
            }
        }
    }

    /// <summary>Counters since the server started.</summary>
    internal RpcServerStatistics Statistics
    {
        get
        {
            long requests;
            lock (_lock)
            {
                // Each session thread counts its own answers (no shared atomic per batch); closed sessions' are in _requests.
                requests = _requests + _sessions.Sum(s => (long)s.ResponsesSent);
            }

            return new(
                Volatile.Read(ref _sessionsOpened), Volatile.Read(ref _sessionsClosed), Volatile.Read(ref _handshakesFailed),
                requests, Volatile.Read(ref _unknownOpcodes), Volatile.Read(ref _badBlocks),
                Volatile.Read(ref _handlerFailures), Volatile.Read(ref _protocolViolations));
        }
    }

    internal CancellationToken StopToken => _stop.Token;

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal RpcWorkerPool? Pool { get; private set; }

    /// <summary>Serves <paramref name="opcode"/> with <paramref name="handler"/> on the session thread: for handlers that never block.</summary>
    /// <exception cref="InvalidOperationException">The server has started, or the opcode is mapped already.</exception>
    public void Map(uint opcode, RpcHandler handler) => Add(opcode, handler, blocking: false);

    /// <summary>
    /// Serves <paramref name="opcode"/> on the worker pool: for handlers that may block (file or
    /// network I/O), so that a slow call does not stall the session's other calls.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server has started, or the opcode is mapped already.</exception>
    public void MapBlocking(uint opcode, RpcHandler handler) => Add(opcode, handler, blocking: true);

    /// <summary>Starts listening on <paramref name="endpoint"/> and serving clients that <paramref name="policy"/> allows (same user by default).</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="UintrIpcException">The endpoint is taken (EADDRINUSE) or cannot be bound.</exception>
    /// <exception cref="ArgumentException"><paramref name="endpoint"/> is not <c>@name</c> or a socket path that fits a Unix socket address (at most 107 bytes).</exception>
    public void Start(string endpoint, PeerPolicy? policy = null)
    {
        var parsed = BootstrapEndpoint.Parse(endpoint); // before the server counts as started
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_lock)
        {
            if (_handlers is not null)
            {
                throw new InvalidOperationException("The server has been started already.");
            }

            _handlers = _mapping.ToFrozenDictionary();
            // Opcodes below SmallOpcodes (all of them, in practice) are looked up by index.
            _smallOpcodes = new (RpcHandler?, bool)[_mapping.Keys.Where(k => k < SmallOpcodes).DefaultIfEmpty().Max() + 1];
            foreach (var (opcode, entry) in _mapping.Where(m => m.Key < SmallOpcodes))
            {
                _smallOpcodes[opcode] = entry;
            }
        }

        _listener = BootstrapServer.Listen(parsed, policy);
        UintrIpcMeter.For(Options.Wait.MeterFactory).Add(this, _listener.Endpoint); // read only when a listener collects
        Pool = Options.WorkerThreads > 0 && _mapping.Values.Any(h => h.Blocking) ? new RpcWorkerPool(Options.WorkerThreads) : null;
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = $"rpc accept {_listener.Endpoint}" };
        _acceptThread.Start();
    }

    /// <summary>How long <see cref="Dispose"/> waits, in all, for the accept, session and worker threads (tests shorten it).</summary>
    internal TimeSpan DisposeWaitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Stops accepting, ends every session (their clients' calls fail at once) and waits for the
    /// session and worker threads: at most 5 s in all, however many handlers still run (a handler
    /// that ignores <see cref="RpcSession.Closing"/> keeps its background thread after that).
    /// A handler or event subscriber may call it (a "shutdown" opcode): it does not wait for the
    /// thread it runs on, which ends once the handler returns.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // One deadline for every join: a join per stuck thread, each with its own 5 s, made
        // Dispose last 5 s per handler that ignores Closing (20 s with the default 4 workers).
        long deadline = Environment.TickCount64 + (long)DisposeWaitTimeout.TotalMilliseconds;
        _stop.Cancel();
        JoinUnlessCurrent(_acceptThread, deadline);
        _listener?.Dispose();
        Thread[] threads;
        RpcServerSession[] sessions;
        lock (_lock)
        {
            sessions = [.. _sessions];
            threads = [.. _sessionThreads];
        }

        foreach (var session in sessions)
        {
            session.Stop(); // outside the lock: it may end the session and raise SessionClosed
        }

        foreach (var thread in threads)
        {
            JoinUnlessCurrent(thread, deadline);
        }

        Pool?.Dispose(deadline);
        // _stop is not disposed: a thread this Dispose did not wait for (its own, or one past the
        // deadline, still in its handshake) may read StopToken after, and a disposed source throws
        // there; with no timer and no wait handle taken, it holds nothing that needs releasing.
    }

    /// <summary>
    /// Waits for <paramref name="thread"/> until <paramref name="deadline"/> (Environment.TickCount64),
    /// unless it is the calling thread: Dispose called by a handler on its session thread or a worker
    /// waited for itself until the deadline (5 s), and held that call's answer as long.
    /// </summary>
    internal static void JoinUnlessCurrent(Thread? thread, long deadline)
    {
        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)));
        }
    }

    internal bool TryGetHandler(uint opcode, [NotNullWhen(true)] out RpcHandler? handler, out bool blocking)
    {
        var small = _smallOpcodes;
        if (opcode < (uint)small.Length)
        {
            (handler, blocking) = small[opcode];
            return handler is not null;
        }

        if (opcode >= SmallOpcodes && _handlers!.TryGetValue(opcode, out var entry))
        {
            handler = entry.Handler;
            blocking = entry.Blocking;
            return true;
        }

        handler = null;
        blocking = false;
        return false;
    }

    internal ulong NextSessionId() => (ulong)Interlocked.Increment(ref _nextSessionId);

    /// <summary>Counts the session and raises <see cref="SessionOpened"/>; returns the subscriber's exception, which ends the session.</summary>
    internal Exception? OnSessionOpened(RpcSession session)
    {
        Interlocked.Increment(ref _sessionsOpened);
        try
        {
            SessionOpened?.Invoke(this, session);
            return null;
        }
        catch (Exception e)
        {
            ReportFailure(session, e);
            return e;
        }
    }

    internal void OnSessionClosed(RpcServerSession owner, RpcSession? session, string reason)
    {
        lock (_lock)
        {
            _sessions.Remove(owner);
            _requests += (long)owner.ResponsesSent; // final: its thread has ended
        }

        if (session is not null)
        {
            Interlocked.Increment(ref _sessionsClosed);
            session.CloseReason = reason;
            try
            {
                SessionClosed?.Invoke(this, session);
            }
            catch (Exception e)
            {
                // Raised from a session or worker thread's last step: escaping, it would end the process.
                ReportFailure(session, e);
            }
        }
    }

    /// <summary>Raises <see cref="HandlerFailed"/>; a throwing subscriber must not end the thread that serves the session.</summary>
    internal void ReportFailure(RpcSession session, Exception failure)
    {
        try
        {
            HandlerFailed?.Invoke(session, failure);
        }
        catch (Exception)
        {
            // Dropped: the failure has been answered (or the session ended) and counted already.
        }
    }

    internal void CountHandshakeFailed() => Interlocked.Increment(ref _handshakesFailed);

    internal void CountUnknownOpcode() => Interlocked.Increment(ref _unknownOpcodes);

    internal void CountBadBlock() => Interlocked.Increment(ref _badBlocks);

    internal void CountHandlerFailure() => Interlocked.Increment(ref _handlerFailures);

    internal void CountProtocolViolation() => Interlocked.Increment(ref _protocolViolations);

    private void Add(uint opcode, RpcHandler handler, bool blocking)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            if (_handlers is not null)
            {
                throw new InvalidOperationException("Map handlers before Start: the handler table is frozen when the server starts.");
            }

            if (!_mapping.TryAdd(opcode, (handler, blocking)))
            {
                throw new InvalidOperationException($"Opcode {opcode} is mapped already.");
            }
        }
    }

    private void AcceptLoop()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            BootstrapConnection connection;
            try
            {
                connection = _listener!.Accept(TimeSpan.FromSeconds(1), stop);
            }
            catch (TimeoutException)
            {
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (UintrIpcException)
            {
                continue; // one failed accept (the peer vanished mid-handshake) must not end the server
            }

            var session = new RpcServerSession(this, connection);
            var thread = new Thread(session.Run) { IsBackground = true, Name = $"rpc session (pid {connection.Peer.Pid})" };
            lock (_lock)
            {
                if (stop.IsCancellationRequested)
                {
                    connection.Dispose();
                    return;
                }

                _sessions.Add(session);
                _sessionThreads.RemoveAll(t => !t.IsAlive);
                _sessionThreads.Add(thread);
            }

            thread.Start();
        }
    }

    private static ulong NewEpoch()
    {
        ulong epoch;
        do
        {
            epoch = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        }
        while (epoch == 0);
        return epoch;
    }
}
