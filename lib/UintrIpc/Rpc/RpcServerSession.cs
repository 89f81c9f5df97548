using System.Diagnostics;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Interop;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

// Server side of uintripc_rpc.h section 3, one thread per session. Requests are copied into a
// private batch first, so nothing the client changes later reaches a check we made; answers go
// to a private outbox, published with one ring write and one wake check per pass. Every request
// read gets exactly one response (Answer, or its work item's Complete), and requests are read
// only while the outbox plus the work in flight stay under max_calls, so a client that does not
// take its answers stalls only itself. Lifetime: leases (the thread, each work item); the last
// releases the region, so no handler runs on an unmapped arena. Client death: section 7.

/// <summary>The server side of one session: its thread, region, doorbells and outbox.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Released with the last lease (Release), not by Dispose: workers may still use them.")]
internal sealed unsafe class RpcServerSession
{
    private static readonly long s_peerCheckTicks = Stopwatch.Frequency / 100; // 10 ms

    private readonly RpcServer _server;
    private readonly BootstrapConnection _connection;
    private readonly Lock _completionLock = new();
    private RpcRegion? _region;
    private RpcSession? _session;
    private WaitBlock? _serverWait;      // consumer instance: the session thread parks on it
    private WaitBlock? _serverWaitRing;  // producer instance: workers and Stop ring it
    private WaitBlock? _clientWait;      // producer instance: the session thread rings the client
    private DoorbellReceiver? _receiver;
    private DoorbellSender? _selfBell;
    private DoorbellSender? _clientBell;
    private SafeFdHandle? _clientEventFd;
    private RpcWireResponse[] _outbox = [];
    private int _outboxCount;
    private RpcWireResponse[] _completions = [];
    private int _completionCount;
    private int _atWorkers;
    private ulong _responsesSent;
    private int _leases = 1;
    private volatile bool _ended;
    private string _endReason = "the server stopped";
    private long _lastPeerCheck;
    private IDisposable? _peerWatch;
    private System.Runtime.CompilerServices.StrongBox<RpcWakeStatistics>? _finalWake;

    internal RpcServerSession(RpcServer server, BootstrapConnection connection)
    {
        _server = server;
        _connection = connection;
    }

    internal RpcSession? Session => _session;

    /// <summary>A duplicate of the client's pidfd as the connection pinned it (see <see cref="BootstrapConnection.OpenPeerProcess"/>).</summary>
    internal ProcessHandle OpenPeerProcess() => _connection.OpenPeerProcess();

    /// <summary>Responses published so far (final once the session thread has ended).</summary>
    internal ulong ResponsesSent => Volatile.Read(ref _responsesSent);

    /// <summary>Session thread body: handshake, serve, end.</summary>
    internal void Run()
    {
        bool welcomed = false;
        try
        {
            if (!Handshake())
            {
                _server.CountHandshakeFailed();
                return;
            }

            welcomed = true;

            _peerWatch = RpcPeerWatcher.Watch(_connection, OnClientGone);
            if (_server.OnSessionOpened(_session!) is { } failure)
            {
                _endReason = $"a SessionOpened subscriber threw {failure.GetType().Name}: {failure.Message}";
                return;
            }

            Serve();
        }
        catch (Exception e) when (e is UintrIpcException or TimeoutException or OperationCanceledException or RingCorruptedException or RegionFormatException)
        {
            if (e is RingCorruptedException)
            {
                _server.CountProtocolViolation();
            }
            else if (!welcomed && e is not OperationCanceledException)
            {
                // No valid hello within HelloTimeout, or the client hung up first: a failed handshake
                // as much as a refused one (a server stopping meanwhile is not the client's failure).
                _server.CountHandshakeFailed();
            }

            _endReason = e is RingCorruptedException ? $"the client corrupted its rings: {e.Message}"
                : e is OperationCanceledException ? "the server stopped" : e.Message;
        }
        finally
        {
            _ended = true;
            _session?.BeginClosing(); // handlers still waiting (workers) learn it before the teardown below
            _region?.MarkStopped();
            _peerWatch?.Dispose(); // before the connection: the watch holds the socket open
            _connection.Dispose(); // the client sees POLLHUP now
            Release();
        }
    }

    /// <summary>Asks the session thread to end (server shutdown): wakes it if it is parked.</summary>
    internal void Stop()
    {
        _ended = true;
        _session?.BeginClosing(); // a blocking handler's wait ends now, not when the session thread gets here
        if (!TryAddLease())
        {
            return; // already torn down
        }

        try
        {
            // Under a lease: the wait block's memory stays mapped while we ring it.
            if (_serverWaitRing is { } wait && _selfBell is { } bell)
            {
                wait.WakeIfSleeping(bell);
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>The session's wait-block counters: read now while the region is mapped, else as they were when it was released.</summary>
    internal RpcWakeStatistics ReadWakeStatistics()
    {
        if (!TryAddLease())
        {
            // Taken under the last lease and published (release) before SessionClosed is raised; null for the instant before.
            return Volatile.Read(ref _finalWake)?.Value ?? default;
        }

        try
        {
            return _serverWait is { } server && _clientWait is { } client ? RpcWakeStatistics.Read(server, client) : default;
        }
        finally
        {
            Release();
        }
    }

    /// <summary>The peer watcher's callback: the client closed its connection or exited. Ends the session now, also when the thread sleeps.</summary>
    private void OnClientGone()
    {
        if (!_ended)
        {
            _endReason = "the client disconnected or exited";
        }

        Stop();
    }

    private bool TryAddLease()
    {
        int leases = Volatile.Read(ref _leases);
        while (leases > 0)
        {
            int seen = Interlocked.CompareExchange(ref _leases, leases + 1, leases);
            if (seen == leases)
            {
                return true;
            }

            leases = seen;
        }

        return false;
    }

    /// <summary>Worker thread: runs a blocking handler and hands its response to the session thread.</summary>
    internal void RunBlocking(in RpcWireRequest request, RpcHandler handler)
    {
        try
        {
            if (_ended)
            {
                return; // nobody will publish the answer, and the client has been told the session ended
            }

            RpcWireResponse response = Execute(request, handler);
            lock (_completionLock)
            {
                _completions[_completionCount++] = response; // room: one entry per request at the workers
            }

            _serverWaitRing!.WakeIfSleeping(_selfBell!);
        }
        finally
        {
            Release();
        }
    }

    /// <summary>
    /// The arena a hello's <paramref name="wanted"/> bytes get: rounded up to a multiple of 64, so that
    /// whoever asks for 1-63 bytes can pass that much (rounding down granted them 0), and at most
    /// <paramref name="max"/> rounded down.
    /// </summary>
    internal static long GrantedArena(ulong wanted, long max)
    {
        const ulong mask = RpcLayout.ArenaAlignment - 1;
        ulong capped = Math.Min(wanted, (ulong)max & ~mask); // <= MaxArena (2^30): rounding up cannot overflow or pass the cap
        return (long)((capped + mask) & ~mask);
    }

    private bool Handshake()
    {
        RpcServerOptions options = _server.Options;
        using BootstrapMessage message = _connection.Receive(options.HelloTimeout, _server.StopToken);
        RpcHandshake.Hello? parsed = RpcHandshake.ReadHello(message.Payload.Span, out string? problem);
        if (parsed is not { } hello)
        {
            Refuse(-LibC.EPROTO, DoorbellKind.None, problem!);
            return false;
        }

        if (!options.Doorbells.Contains(hello.Doorbell))
        {
            Refuse(-LibC.EOPNOTSUPP, hello.Doorbell, $"doorbell {hello.Doorbell} is not offered (offered: {string.Join(", ", options.Doorbells)})");
            return false;
        }

        int expectedFds = hello.Doorbell == DoorbellKind.EventFd ? 1 : 0;
        if (message.FdCount != expectedFds)
        {
            Refuse(-LibC.EPROTO, hello.Doorbell, $"{message.FdCount} descriptors with a {hello.Doorbell} hello, expected {expectedFds}");
            return false;
        }

        // Grant what was asked within the limits: a power of two of call slots, a multiple of 64 arena bytes.
        uint wantedCalls = hello.MaxCalls == 0 ? (uint)options.DefaultMaxCalls : Math.Clamp(hello.MaxCalls, RpcLayout.MinCalls, (uint)options.MaxCalls);
        int maxCalls = 1 << System.Numerics.BitOperations.Log2(wantedCalls);
        long arena = GrantedArena(hello.ArenaLength == 0 ? (ulong)options.DefaultArenaLength : hello.ArenaLength, options.MaxArenaLength);
        if (expectedFds == 1)
        {
            _clientEventFd = message.TakeEventFd(0, _connection.Endpoint); // a pipe or a file from a hostile client ends its session, not our process
        }

        ulong id = _server.NextSessionId();
        _region = RpcRegion.Create(maxCalls, arena, hello.Doorbell, _server.Epoch, id, _connection.Peer.Pid);
        // Every use of the mapping here holds a session lease (handlers' spans live only in their
        // call), so the last release can unmap it: a placeholder kept each closed session's 1 MiB
        // of address space until a GC (design-notes "fdleak").
        _region.Region.UnmapOnLastRelease = true;
        _serverWait = new WaitBlock(_region.Region, _region.ServerWaitPart);
        _serverWaitRing = new WaitBlock(_region.Region, _region.ServerWaitPart);
        _clientWait = new WaitBlock(_region.Region, _region.ClientWaitPart, singleProducer: true);
        _outbox = new RpcWireResponse[maxCalls];
        _completions = new RpcWireResponse[maxCalls];
        switch (hello.Doorbell)
        {
            case DoorbellKind.Futex:
                _receiver = new FutexDoorbellReceiver(_serverWait);
                _selfBell = new FutexDoorbellSender(_serverWaitRing);
                _clientBell = new FutexDoorbellSender(_clientWait);
                break;
            case DoorbellKind.EventFd:
                var eventFd = new EventFdDoorbellReceiver();
                _receiver = eventFd;
                _selfBell = new EventFdDoorbellSender(eventFd.FileHandle);
                _clientBell = new EventFdDoorbellSender(_clientEventFd!);
                break;
            default:
                _receiver = new NoDoorbellReceiver();
                _selfBell = new NoDoorbellSender();
                _clientBell = new NoDoorbellSender();
                break;
        }

        Span<byte> payload = stackalloc byte[RpcLayout.WelcomeSize];
        RpcHandshake.Write(payload, new RpcHandshake.Welcome(0, hello.Doorbell, (uint)maxCalls, (ulong)arena, _region.Region.Epoch, _server.Epoch, id));
        if (_receiver is EventFdDoorbellReceiver serverEventFd)
        {
            _connection.Send(payload, _region.Region.FileHandle, serverEventFd.FileHandle);
        }
        else
        {
            _connection.Send(payload, _region.Region.FileHandle);
        }

        // Only now is the session open (SessionOpened, and SessionClosed at its end).
        _session = new RpcSession(id, _connection.Peer, hello.Doorbell, maxCalls, arena, this);
        return true;
    }

    private void Refuse(int status, DoorbellKind doorbell, string problem)
    {
        _endReason = "handshake failed: " + problem;
        Span<byte> payload = stackalloc byte[RpcLayout.WelcomeSize];
        RpcHandshake.Write(payload, new RpcHandshake.Welcome(status, doorbell, 0, 0, 0, _server.Epoch, 0));
        try
        {
            _connection.Send(payload);
        }
        catch (Exception e) when (e is UintrIpcException or TimeoutException)
        {
            // The client went away; it will not miss the answer.
        }
    }

    private void Serve()
    {
        RpcRegion region = _region!;
        var requests = new RpcWireRequest[Math.Min(_server.Options.BatchSize, region.MaxCalls)];
        Channels.ChannelWaitOptions wait = _server.Options.Wait;
        var phaser = new BackoffPhaser(wait.SpinBudget, wait.YieldBudget);
        var probe = new Probe(this);
        _lastPeerCheck = Stopwatch.GetTimestamp();
        // The JIT inlines ServePass here (on stack replacement: this loop runs for the whole
        // session); forcing a separate, tiered method measured slower (A/B, about 1.2x per call).
        while (!_ended)
        {
            if (ServePass(requests) > 0)
            {
                phaser.Reset();
                continue;
            }

            if (!phaser.SpinOrYield(Stopwatch.GetTimestamp(), ref probe) && !_serverWait!.Park(ref probe, _receiver!, wait.MaxParkTime))
            {
                CheckClient();
            }
        }
    }

    /// <summary>One pass: finished blocking calls, then the requests there is room for, then one publish of the answers; returns the work done.</summary>
    private int ServePass(RpcWireRequest[] requests)
    {
        RpcRegion region = _region!;
        int work = TakeCompletions();
        int room = Math.Min(requests.Length, Room);
        if (room > 0 && region.Requests.CanRead)
        {
            int n = region.Requests.TryRead(requests.AsSpan(0, room));
            for (int i = 0; i < n; i++)
            {
                Process(requests[i]);
            }

            _session!.CountRequests(n);
            work += n;
        }

        return work + Flush();
    }

    /// <summary>Requests that may be read now: every one read must find a place in the outbox (session thread only).</summary>
    private int Room => _region!.MaxCalls - _outboxCount - _atWorkers;

    private void Process(in RpcWireRequest request)
    {
        RpcRegion region = _region!;
        if (!region.BlockInArena(request.DataOffset, request.InLength, request.OutCapacity))
        {
            _server.CountBadBlock();
            Answer(request.Id, -LibC.EFAULT);
            return;
        }

        if (!_server.TryGetHandler(request.Opcode, out RpcHandler? handler, out bool blocking))
        {
            _server.CountUnknownOpcode();
            Answer(request.Id, -LibC.ENOSYS);
            return;
        }

        if (blocking && _server.Pool is { } pool)
        {
            Interlocked.Increment(ref _leases); // released by RunBlocking
            if (pool.TryEnqueue(this, request, handler))
            {
                _atWorkers++;
                return;
            }

            // The server is being disposed (by a handler of this batch, or past its wait): its
            // workers may be gone, and a queued call would hold this lease, and the session, for good.
            Release(); // never the last: this thread holds its own
            Answer(request.Id, -LibC.ESHUTDOWN);
            return;
        }

        _outbox[_outboxCount++] = Execute(request, handler);
    }

    private RpcWireResponse Execute(in RpcWireRequest request, RpcHandler handler)
    {
        RpcRegion region = _region!;
        int block = (int)Math.Max(request.InLength, request.OutCapacity); // inside the arena (checked), so below 2^30
        var context = new RpcRequest(_session!, request.Opcode, request.Args, new Span<byte>(region.Arena + request.DataOffset, block), (int)request.InLength, (int)request.OutCapacity);
        long result;
        try
        {
            result = handler(ref context);
        }
        catch (Exception e)
        {
            _server.CountHandlerFailure();
            result = e is UintrIpcException { Errno: > 0 } u ? -u.Errno : -LibC.EIO;
            _server.ReportFailure(_session!, e);
        }

        return new RpcWireResponse { Id = request.Id, Result = result, OutLength = result >= 0 ? (uint)context.OutputLength : 0 };
    }

    private void Answer(ulong id, long result) => _outbox[_outboxCount++] = new RpcWireResponse { Id = id, Result = result };

    private int TakeCompletions()
    {
        // Acquire: a worker's increment under the lock; the lock below orders the entries themselves.
        if (Volatile.Read(ref _completionCount) == 0)
        {
            return 0;
        }

        lock (_completionLock)
        {
            int n = _completionCount;
            _completions.AsSpan(0, n).CopyTo(_outbox.AsSpan(_outboxCount));
            _outboxCount += n;
            _atWorkers -= n;
            _completionCount = 0;
            return n;
        }
    }

    private int Flush()
    {
        if (_outboxCount == 0)
        {
            return 0;
        }

        RpcRegion region = _region!;
        // One release of the tail for the whole batch (the SPSC path of SlotRing.TryWrite of a span).
        int written = region.Responses.Engine.TryWrite<RpcWireResponse, SingleProducer>(_outbox.AsSpan(0, _outboxCount));
        if (written == 0)
        {
            return 0; // the client has not taken its responses: only it waits
        }

        _outbox.AsSpan(written, _outboxCount - written).CopyTo(_outbox);
        _outboxCount -= written;
        Volatile.Write(ref _responsesSent, _responsesSent + (ulong)written); // one writer; RpcServer.Statistics reads it
        region.PublishResponsesSent(_responsesSent);
        _clientWait!.WakeIfSleeping(_clientBell!);
        return written;
    }

    /// <summary>Ends the session when the client's end of the connection is gone (POLLHUP) or it sent anything after its hello.</summary>
    private void CheckClient()
    {
        long now = Stopwatch.GetTimestamp();
        if (now - _lastPeerCheck < s_peerCheckTicks)
        {
            return;
        }

        _lastPeerCheck = now;
        if (RpcPeerLiveness.HasHungUp(_connection))
        {
            _endReason = "the client disconnected or exited";
            _ended = true;
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _leases) != 0)
        {
            return;
        }

        // Last lease: no handler runs on the arena any more.
        if (_serverWait is { } server && _clientWait is { } client)
        {
            Volatile.Write(ref _finalWake, new(RpcWakeStatistics.Read(server, client)));
        }

        _receiver?.Dispose();
        _selfBell?.Dispose();
        _clientBell?.Dispose();
        _clientEventFd?.Dispose();
        _region?.Region.Dispose();
        _server.OnSessionClosed(this, _session, _endReason);
    }

    private readonly struct Probe(RpcServerSession owner) : IWaitProbe
    {
        // Requests count as work only with room to read them: a client that leaves its answers
        // untaken while it queues more requests would otherwise keep this thread from sleeping.
        public bool HasWork => (owner.Room > 0 && owner._region!.Requests.CanRead) || Volatile.Read(ref owner._completionCount) != 0 || owner._ended;
    }
}
