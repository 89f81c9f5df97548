using System.Diagnostics;
using System.Runtime.CompilerServices;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Metrics;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

// Client side of uintripc_rpc.h sections 3 (steps 1-6) and 7. Submitting is lock-free on the
// shared side (MPSC ring) and takes one private lock for the call slot and arena block (a call
// without payload usually takes the spare slot: one atomic exchange). Responses are consumed by
// one thread at a time: whichever waiting caller wins the reader role (a CAS) drains the ring and
// routes answers by id (RpcCallSlot), so a single-threaded caller reads its own answer with no
// thread hop. Asynchronous calls get a receiver thread that takes the role like any caller, so
// no user continuation runs on the reader; it also looks for the late answers of timed-out
// synchronous calls once per park time (the role held for the look alone), for when no call follows. RpcPeerWatcher wakes the reader when the server
// goes; every outstanding call then fails. Lifetime: a lease per call in progress and one for
// the client; the last unmaps the region.
// Fast path (CallAsReader): a synchronous caller that wins the reader role before it submits
// uses slot 0, which only the reader role's holder touches (outside the free list), and holds
// the role until its answer is routed. The role is its lease (Dispose takes the role before it
// drops the client's lease), so such a call costs three atomics of its own (role in and out,
// the ring's claim) plus the wake check, against about eleven on the general path.

/// <summary>
/// A client of an <see cref="RpcServer"/>: calls with an opcode, four inline arguments and
/// optional input and output bytes, synchronously with a timeout or asynchronously with a
/// cancellation token, from any number of threads.
/// </summary>
/// <example>
/// With the server of the <see cref="RpcServer"/> example:
/// <!-- snippet-context client
/// CancellationToken cancellationToken = default;
/// -->
/// <!-- snippet: fragment client -->
/// <code>
/// using var client = RpcClient.Connect("@my-service");
/// RpcResult sum = client.Call(1, new RpcArgs(2, 3), TimeSpan.FromSeconds(1));  // sum.Value == 5
/// byte[] input = "some input"u8.ToArray();
/// RpcResult slow = await client.CallAsync(2, default, input, default, cancellationToken);
/// if (slow.IsError) Console.WriteLine($"errno {slow.Errno}");
/// </code>
/// </example>
[DebuggerDisplay("RpcClient session {SessionId} ({Outstanding} outstanding)")]
public sealed class RpcClient : IDisposable
{
    private const int ReaderSlot = 0; // only the reader role's holder uses it (CallAsReader)
    private const int ReceiverRunning = 0, ReceiverEnded = 1, DisposeHandedOver = 2;
    private readonly BootstrapConnection _connection;
    private readonly RpcRegion _region;
    private readonly WaitBlock _serverWait;
    private readonly WaitBlock _clientWait;
    private readonly DoorbellSender _serverBell;
    private readonly DoorbellReceiver _clientBell;
    private readonly WaitBlock _clientWaitRing;   // producer instance: the peer watcher rings our own reader with it
    private readonly DoorbellSender _selfBell;
    private readonly IDisposable _peerWatch;
    private readonly ChannelWaitOptions _wait;
    private readonly RpcCallSlot[] _slots;
    private readonly Lock _lock = new();
    private readonly int[] _free;
    private readonly RpcArenaAllocator _arena;
    private readonly ManualResetEventSlim _receiverWake = new(false, spinCount: 1);
    private int _freeCount;
    private int _spareSlot = -1; // one free slot outside _free, taken and given back with one atomic each (payload-less calls)
    private int _reader;
    private int _syncWaiters;
    private int _asyncPending;
    private int _abandonedSync; // synchronous calls given up (timed out) whose late answer nobody has routed yet: the receiver reads for them
    private int _leases = 1;
    private int _lostErrno;
    private string _lostReason = string.Empty;
    private int _disposed;
    private int _receiverClaimed;
    private Thread? _receiver; // published after Start: Dispose never joins an unstarted thread
    private int _receiverEnd;  // ReceiverRunning, ReceiverEnded, or DisposeHandedOver (who finishes Dispose, decided by one exchange)
    private long _timedOut, _cancelled, _late, _unknownIds, _staleIds, _duplicateIds, _invalid;

    private RpcClient(BootstrapConnection connection, RpcRegion region, DoorbellSender serverBell, DoorbellReceiver? clientBell, ChannelWaitOptions wait)
    {
        _connection = connection;
        _region = region;
        _wait = wait;
        _serverWait = new WaitBlock(region.Region, region.ServerWaitPart);
        _clientWait = new WaitBlock(region.Region, region.ClientWaitPart);
        _serverBell = serverBell;
        _clientBell = clientBell ?? (region.Doorbell == DoorbellKind.Futex ? new FutexDoorbellReceiver(_clientWait) : new NoDoorbellReceiver());
        _clientWaitRing = new WaitBlock(region.Region, region.ClientWaitPart);
        _selfBell = _clientBell switch
        {
            FutexDoorbellReceiver => new FutexDoorbellSender(_clientWaitRing),
            EventFdDoorbellReceiver eventFd => new EventFdDoorbellSender(eventFd.FileHandle),
            _ => new NoDoorbellSender(),
        };
        _slots = new RpcCallSlot[region.MaxCalls];
        _free = new int[region.MaxCalls];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new RpcCallSlot(this, (uint)i);
        }

        // Slot 0 is the reader's (CallAsReader); the others are free, lowest index on top.
        for (int i = 1; i < _slots.Length; i++)
        {
            _free[i - 1] = _slots.Length - i;
        }

        _freeCount = _slots.Length - 1;
        _arena = new RpcArenaAllocator(region.ArenaLength, region.MaxCalls);
        _peerWatch = RpcPeerWatcher.Watch(connection, OnServerGone); // last: it may fire at once
    }

    /// <summary>The most calls outstanding at once (granted by the server).</summary>
    public int MaxCalls => _slots.Length;

    /// <summary>Bytes of the arena: the largest input or output of one call, and of all outstanding calls together.</summary>
    public long ArenaLength => _region.ArenaLength;

    /// <summary>The doorbell of both directions.</summary>
    public DoorbellKind Doorbell => _region.Doorbell;

    /// <summary>The server instance's epoch: another value after a reconnection means the server was restarted.</summary>
    public ulong ServerEpoch => _region.ServerEpoch;

    /// <summary>The server's number for this session.</summary>
    public ulong SessionId => _region.SessionId;

    /// <summary>The server process (SO_PEERCRED).</summary>
    public PeerCredentials Server => _connection.Peer;

    /// <summary>Whether the session still works (false once the server is gone, stopped the session, broke the protocol, or the client was disposed).</summary>
    public bool IsConnected => Volatile.Read(ref _lostErrno) == 0;

    /// <summary>
    /// Calls submitted and not answered yet, including timed-out and cancelled calls whose late
    /// answer has not come (they keep their slot until it does, or until the session ends; the
    /// client's receiver thread routes a late answer when it comes, whether or not other calls
    /// follow). A call
    /// stops counting before its caller sees the answer: once <c>Call</c> has returned or an
    /// awaited <c>CallAsync</c> has resumed, it is not counted. A snapshot while other threads call.
    /// </summary>
    public int Outstanding
    {
        get
        {
            // A call is Pending from its submission (Arm) until the reader sets its outcome, which
            // is what its caller waits for; Abandoned until the late answer frees the slot. The
            // slot itself is freed a moment later by whoever drops the last hold, so counting
            // slots that are not free would count answered calls. Acquire reads, one per slot.
            int count = 0;
            foreach (RpcCallSlot slot in _slots)
            {
                if (Volatile.Read(ref slot.State) is RpcCallSlot.Pending or RpcCallSlot.Abandoned)
                {
                    count++;
                }
            }

            return count;
        }
    }

    /// <summary>What the client rejected or gave up on.</summary>
    internal RpcClientStatistics Statistics => new(
        Volatile.Read(ref _timedOut), Volatile.Read(ref _cancelled), Volatile.Read(ref _late), Volatile.Read(ref _unknownIds),
        Volatile.Read(ref _staleIds), Volatile.Read(ref _duplicateIds), Volatile.Read(ref _invalid));

    /// <summary>
    /// How often the server's session thread and this client's callers slept in their doorbells
    /// and were woken, since the session opened (the session's wait-block counters). Take two
    /// readings and <see cref="RpcWakeStatistics.Since"/> to get the wake-ups of the calls between them.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    internal RpcWakeStatistics WakeStatistics
    {
        get
        {
            Enter();
            try
            {
                return RpcWakeStatistics.Read(_serverWait, _clientWait);
            }
            finally
            {
                Exit();
            }
        }
    }

    /// <summary>The session's region (tests write raw records into it).</summary>
    internal RpcRegion SessionRegion => _region;

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>How long <see cref="Dispose"/> waits for the receiver thread before it hands the rest of the disposal to it (tests shorten it).</summary>
    internal TimeSpan ReceiverJoinTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Tests only: run by the receiver thread on each turn of its loop, right after it found the
    /// client not disposed, where a receiver starved past <see cref="ReceiverJoinTimeout"/> would
    /// be (RpcLateReceiverTests holds it there). One field read per turn, not per message.
    /// </summary>
    internal Action? ReceiverTurnHook { get; set; }

    /// <summary>Whether a thread holds the reader role now (tests: a late answer awaited alone leaves it free).</summary>
    internal bool ReaderRoleHeld => Volatile.Read(ref _reader) != 0;

    /// <summary>The receiver thread of asynchronous calls, once started (tests join it).</summary>
    internal Thread? ReceiverThread => Volatile.Read(ref _receiver);

    /// <summary>True once the last lease is gone and the session's resources are released (tests).</summary>
    internal bool IsReleased => Volatile.Read(ref _leases) == 0;

    /// <summary>Connects to the server at <paramref name="endpoint"/> (<c>@name</c> or a socket path) and opens a session (uintripc_rpc.h section 6).</summary>
    /// <exception cref="TimeoutException">The server did not complete the handshake within <see cref="RpcClientOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="UintrIpcException">EACCES: the server refused this process, or the client's policy refused the server (the message says which and why). Otherwise no server listens there, or it refused the session (errno: EOPNOTSUPP for a doorbell it does not offer, EPROTO for a version mismatch).</exception>
    /// <exception cref="NotSupportedException"><see cref="RpcClientOptions.Doorbell"/> is a signal or uintr doorbell.</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="RpcClientOptions.Doorbell"/> names a doorbell this machine cannot ring; nothing is connected.</exception>
    public static RpcClient Connect(string endpoint, RpcClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RpcClientOptions();
        DoorbellKind doorbell = options.ChosenDoorbell();
        var started = Stopwatch.GetTimestamp();
        BootstrapConnection connection = BootstrapConnection.Connect(endpoint, options.ConnectTimeout, options.ServerPolicy, cancellationToken);
        EventFdDoorbellReceiver? ownEventFd = null;
        SharedRegion? region = null;
        DoorbellSender? serverBell = null;
        try
        {
            Span<byte> hello = stackalloc byte[RpcLayout.HelloSize];
            RpcHandshake.Write(hello, new RpcHandshake.Hello(doorbell, (uint)Math.Max(options.MaxCalls, 0), (ulong)Math.Max(options.ArenaLength, 0)));
            if (doorbell == DoorbellKind.EventFd)
            {
                ownEventFd = new EventFdDoorbellReceiver();
                connection.Send(hello, ownEventFd.FileHandle);
            }
            else
            {
                connection.Send(hello);
            }

            TimeSpan left = options.ConnectTimeout - Stopwatch.GetElapsedTime(started);
            using BootstrapMessage message = ReceiveWelcome(connection, left > TimeSpan.Zero ? left : TimeSpan.Zero, options.ConnectTimeout, cancellationToken);
            RpcHandshake.Welcome welcome = RpcHandshake.ReadWelcome(message.Payload.Span, out string? problem)
                ?? throw new BootstrapProtocolException(connection.Endpoint, problem!);
            if (welcome.Status < 0)
            {
                throw new UintrIpcException($"RPC session with {connection.Endpoint}", -welcome.Status,
                    welcome.Status == -LibC.EOPNOTSUPP ? $"The server does not offer the {doorbell} doorbell; choose another in RpcClientOptions.Doorbell." : null);
            }

            if (welcome.Status != 0)
            {
                // Not 0 and not -errno: a server of this version never sends it, so nothing else in the welcome is believed either.
                throw new BootstrapProtocolException(connection.Endpoint, $"the welcome's status {welcome.Status} is neither 0 nor -errno");
            }

            int expectedFds = doorbell == DoorbellKind.EventFd ? 2 : 1;
            if (message.FdCount != expectedFds || welcome.Doorbell != doorbell)
            {
                throw new BootstrapProtocolException(connection.Endpoint, $"the welcome grants doorbell {welcome.Doorbell} with {message.FdCount} descriptors; asked for {doorbell}, which needs {expectedFds}");
            }

            region = message.AttachRegion(0);
            RpcRegion rpc = RpcRegion.Attach(region);
            if (region.Epoch != welcome.RegionEpoch || rpc.ServerEpoch != welcome.ServerEpoch || rpc.SessionId != welcome.SessionId
                || (uint)rpc.MaxCalls != welcome.MaxCalls || (ulong)rpc.ArenaLength != welcome.ArenaLength || rpc.Doorbell != doorbell)
            {
                throw new BootstrapProtocolException(connection.Endpoint, "the region does not match the welcome (epoch, session, sizes or doorbell)");
            }

            var serverWait = new WaitBlock(region, rpc.ServerWaitPart);
            serverBell = doorbell switch
            {
                DoorbellKind.Futex => new FutexDoorbellSender(serverWait),
                DoorbellKind.EventFd => EventFdSender(message, connection.Endpoint),
                _ => new NoDoorbellSender(),
            };
            var client = new RpcClient(connection, rpc, serverBell, ownEventFd, options.Wait);
            UintrIpcMeter.For(options.Wait.MeterFactory).Add(client, connection.Endpoint); // read only when a listener collects
            return client;
        }
        catch
        {
            serverBell?.Dispose();
            ownEventFd?.Dispose();
            region?.Dispose();
            connection.Dispose();
            throw;
        }
    }

    private static BootstrapMessage ReceiveWelcome(BootstrapConnection connection, TimeSpan left, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        try
        {
            return connection.Receive(left, cancellationToken);
        }
        catch (TimeoutException e)
        {
            // The bootstrap's message names no option; a server busy at accept (a loaded host) is the usual cause.
            throw new TimeoutException($"The RPC server at {connection.Endpoint} ({connection.Peer}) accepted but sent no welcome within RpcClientOptions.ConnectTimeout ({connectTimeout.TotalMilliseconds} ms): it is overloaded or stalled. Raise ConnectTimeout, or connect again later.", e);
        }
    }

    private static EventFdDoorbellSender EventFdSender(BootstrapMessage message, string endpoint)
    {
        using SafeFdHandle fd = message.TakeEventFd(1, endpoint);
        return new EventFdDoorbellSender(fd); // keeps its own duplicate
    }

    /// <summary>Calls <paramref name="opcode"/> without payload, waiting at most <paramref name="timeout"/> for the answer.</summary>
    /// <exception cref="TimeoutException">No answer (or no free call slot) within the timeout; a late answer frees the slot.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative or <see cref="Timeout.InfiniteTimeSpan"/>: every wait is bounded (use <see cref="CallAsync(uint, RpcArgs, CancellationToken)"/> to wait until cancelled).</exception>
    /// <exception cref="RpcConnectionLostException">The session ended (server gone, stopped, or broke the protocol, or this client disposed during the call); the call may or may not have run: connect again.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed before the call.</exception>
    public RpcResult Call(uint opcode, in RpcArgs args, TimeSpan timeout) => Call(opcode, args, default, default, timeout);

    /// <summary>
    /// Calls <paramref name="opcode"/>: copies <paramref name="input"/> into the arena, waits at most
    /// <paramref name="timeout"/> for the answer (spinning briefly, then sleeping), and copies the
    /// output into <paramref name="output"/> (at most its length; <see cref="RpcResult.OutputLength"/> says how much).
    /// The timeout counts from the call's first wait (for a free slot, or for the answer once the
    /// first look finds none), so that a call never reads the clock before it has to wait.
    /// </summary>
    /// <exception cref="ArgumentException">The input or output is larger than the arena.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative or <see cref="Timeout.InfiniteTimeSpan"/>: every wait is bounded.</exception>
    /// <exception cref="TimeoutException">No answer (or no free call slot and arena space) within the timeout; a late answer frees the slot.</exception>
    /// <exception cref="RpcConnectionLostException">The session ended (server gone, stopped, or broke the protocol, or this client disposed during the call); the call may or may not have run: connect again.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed before the call.</exception>
    public RpcResult Call(uint opcode, in RpcArgs args, ReadOnlySpan<byte> input, Span<byte> output, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        var deadline = new CallDeadline(BackoffPhaser.ToTicks(timeout));
        int block = BlockLength(input.Length, output.Length);
        if (TryEnterReader() && CallAsReader(opcode, args, input, output, block, ref deadline, timeout, out RpcResult answered))
        {
            return answered;
        }

        Enter();
        try
        {
            RpcCallSlot slot = Acquire(block, ref deadline, timeout);
            Submit(slot, opcode, args, input, output.Length, isAsync: false, default);
            WaitForAnswer(slot, ref deadline);
            if (Volatile.Read(ref slot.State) == RpcCallSlot.Pending && TryAbandonSync(slot))
            {
                // Timed out: the slot stays taken until the answer comes or the session ends.
                Interlocked.Increment(ref _timedOut);
                ReleaseCaller(slot);
                ReadForAbandoned();
                throw (Exception?)LostOrNull() ?? new TimeoutException($"No answer to opcode {opcode} within {timeout.TotalMilliseconds} ms; the server is busy or stalled ({Outstanding} calls outstanding).");
            }

            try
            {
                return slot.State == RpcCallSlot.Completed
                    ? CopyOutput(slot, new RpcResult(slot.Result, slot.OutLength), output)
                    : throw Lost();
            }
            finally
            {
                ReleaseCaller(slot);
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// The fast path of <see cref="Call(uint, in RpcArgs, ReadOnlySpan{byte}, Span{byte}, TimeSpan)"/>,
    /// entered with the reader role: the call in the reader's slot, answered by this thread as
    /// the reader. Leaves the role in every case; false (nothing submitted) when the client is
    /// disposed or lost, the reader's slot still waits for a late answer, or the arena is full:
    /// the general path then throws or waits.
    /// </summary>
    private bool CallAsReader(uint opcode, in RpcArgs args, ReadOnlySpan<byte> input, Span<byte> output, int block, ref CallDeadline deadline, TimeSpan timeout, out RpcResult result)
    {
        RpcCallSlot slot = _slots[ReaderSlot];
        result = default;
        bool armed = false;
        bool timedOut = false;
        try
        {
            // After the role's CAS (a full fence): Dispose sets _disposed before it takes the
            // role, so either we see it here or it waits for us to leave the role before it
            // drops the client's lease; the region stays mapped while we hold the role.
            if (Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _lostErrno) != 0 || slot.State != RpcCallSlot.Free)
            {
                return false;
            }

            long offset = 0;
            if (block > 0)
            {
                lock (_lock)
                {
                    if (!_arena.TryAllocate(block, out offset))
                    {
                        return false;
                    }
                }
            }

            slot.DataOffset = offset;
            slot.BlockLength = block;
            armed = true;
            Submit(slot, opcode, args, input, output.Length, isAsync: false, default);
            var phaser = new BackoffPhaser(_wait.SpinBudget, _wait.YieldBudget);
            ReadUntil(slot, ref deadline, ref phaser);
            int state = slot.State; // this thread routed it (Finish): plain
            if (state == RpcCallSlot.Pending)
            {
                // Timed out: the slot stays taken until the late answer is routed or the session ends
                // (the finally below gives it up; ReadForAbandoned after the role is left).
                Interlocked.Increment(ref _timedOut);
                timedOut = true;
                throw (Exception?)LostOrNull() ?? new TimeoutException($"No answer to opcode {opcode} within {timeout.TotalMilliseconds} ms; the server is busy or stalled ({Outstanding} calls outstanding).");
            }

            armed = false; // answered or failed: the server side is closed
            if (state != RpcCallSlot.Completed)
            {
                FreeReaderSlot(slot);
                throw Lost();
            }

            result = CopyOutput(slot, new RpcResult(slot.Result, slot.OutLength), output);
            FreeReaderSlot(slot);
            return true;
        }
        finally
        {
            if (armed && slot.State == RpcCallSlot.Pending)
            {
                // Timed out or failed after submitting: whoever routes the late answer (or fails
                // the lost session's calls) frees the slot; until then the fast path is closed.
                // Counted first: only the role's holder (this thread) routes this slot's answer.
                Interlocked.Increment(ref _abandonedSync);
                Volatile.Write(ref slot.State, RpcCallSlot.Abandoned);
            }

            ExitReader();
            if (timedOut)
            {
                ReadForAbandoned();
            }
        }
    }

    /// <summary>
    /// Gives up a synchronous call of the general path (Pending to Abandoned), counted before the
    /// CAS so that the count never goes below zero: the late answer's <see cref="Finish"/> can
    /// uncount it only after the CAS it follows.
    /// </summary>
    private bool TryAbandonSync(RpcCallSlot slot)
    {
        Interlocked.Increment(ref _abandonedSync);
        if (Interlocked.CompareExchange(ref slot.State, RpcCallSlot.Abandoned, RpcCallSlot.Pending) == RpcCallSlot.Pending)
        {
            return true;
        }

        Interlocked.Decrement(ref _abandonedSync); // answered meanwhile
        return false;
    }

    /// <summary>
    /// A synchronous call timed out: its late answer must be routed even if no other call comes,
    /// or its slot and arena block stay taken and <see cref="Outstanding"/> counts it for ever.
    /// The receiver thread looks for it now and then once per park time, holding the reader role
    /// for each look alone (a caller that takes the role meanwhile routes it as well).
    /// </summary>
    private void ReadForAbandoned()
    {
        EnsureReceiver();
        _receiverWake.Set();
    }

    /// <summary>Calls <paramref name="opcode"/> without payload asynchronously.</summary>
    /// <exception cref="RpcConnectionLostException">The session ended (server gone, stopped, or broke the protocol, or this client disposed during the call); the call may or may not have run: connect again.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (a late answer frees the slot).</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed before the call.</exception>
    public ValueTask<RpcResult> CallAsync(uint opcode, RpcArgs args, CancellationToken cancellationToken = default)
        => CallAsync(opcode, args, default, default, cancellationToken);

    /// <summary>
    /// Calls <paramref name="opcode"/> asynchronously: as <see cref="Call(uint, in RpcArgs, ReadOnlySpan{byte}, Span{byte}, TimeSpan)"/>,
    /// with the answer read by a background thread. Await the result exactly once (its call slot
    /// is given back then). Allocation-free per call once warm.
    /// </summary>
    /// <exception cref="ArgumentException">The input or output is larger than the arena.</exception>
    /// <exception cref="RpcConnectionLostException">The session ended (server gone, stopped, or broke the protocol, or this client disposed during the call); the call may or may not have run: connect again.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (a late answer frees the slot).</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed before the call.</exception>
    public ValueTask<RpcResult> CallAsync(uint opcode, RpcArgs args, ReadOnlyMemory<byte> input, Memory<byte> output, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<RpcResult>(cancellationToken);
        }

        int block = BlockLength(input.Length, output.Length);
        Enter();
        RpcCallSlot? slot = null;
        try
        {
            if (!TryAcquire(block, out slot))
            {
                Exit();
                return CallSlowAsync(opcode, args, input, output, block, cancellationToken);
            }

            return Start(slot, opcode, args, input.Span, output, cancellationToken);
        }
        catch
        {
            if (slot is null)
            {
                Exit();
            }

            throw;
        }
    }

    /// <summary>
    /// Ends the session: outstanding calls fail with <see cref="RpcConnectionLostException"/>, new ones throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    /// <remarks>
    /// Once asynchronous calls were made, a receiver thread reads their answers; Dispose waits up
    /// to 5 s for it to end, and then the session's region, doorbells and socket are released
    /// before Dispose returns (unless calls still hold them). If the receiver has not ended by
    /// then (a thread starved of CPU that long), Dispose returns without waiting further: the
    /// receiver, which holds the session open, fails the outstanding calls and releases the
    /// session when it next runs, so nothing is released under a thread that still uses it.
    /// </remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Lose(LibC.ECANCELED, "The client was disposed.");
        _receiverWake.Set();
        Thread? receiver = Volatile.Read(ref _receiver);
        if (receiver is not null && !receiver.Join(ReceiverJoinTimeout)
            && Interlocked.CompareExchange(ref _receiverEnd, DisposeHandedOver, ReceiverRunning) == ReceiverRunning)
        {
            // The receiver still runs (and holds its lease): it finishes this Dispose as it ends
            // (ReceiverMain). Fail the calls now if nobody reads, so that their callers need not
            // wait for it; the role is not waited for here, its holder may be that receiver.
            if (TryEnterReader())
            {
                try
                {
                    FailAll();
                }
                finally
                {
                    Volatile.Write(ref _reader, 0);
                }
            }

            return;
        }

        FinishDispose();
    }

    /// <summary>
    /// The rest of <see cref="Dispose"/>, once no receiver can be left running it (it ended, or
    /// this is the receiver itself): fails what nobody failed yet and drops the client's lease.
    /// Waits for the reader role: a synchronous caller may hold it (CallAsReader relies on
    /// Dispose taking the role before the client's lease goes); it leaves as soon as it sees the
    /// loss that Dispose recorded.
    /// </summary>
    private void FinishDispose()
    {
        while (Interlocked.CompareExchange(ref _reader, 1, 0) != 0)
        {
            Thread.Sleep(1);
        }

        try
        {
            FailAll();
        }
        finally
        {
            Volatile.Write(ref _reader, 0);
        }

        Exit();
    }

    // ---- submitting --------------------------------------------------------------------------

    private int BlockLength(int inputLength, int outputLength)
    {
        int block = Math.Max(inputLength, outputLength);
        if (block > _arena.Capacity)
        {
            throw new ArgumentException($"A call's input and output are at most {_arena.Capacity} bytes (the session's arena; ask for a larger one with RpcClientOptions.ArenaLength, or split the data); this one needs {block}.");
        }

        return block;
    }

    /// <summary>Takes a free call slot and an arena block, waiting (bounded) while all are in use.</summary>
    private RpcCallSlot Acquire(int block, ref CallDeadline deadline, TimeSpan timeout)
    {
        if (TryAcquire(block, out RpcCallSlot? slot))
        {
            return slot; // the common case reads no clock
        }

        long now = Stopwatch.GetTimestamp();
        var backoff = new ProducerBackoff(_wait, TimeSpan.FromTicks(Math.Max(0, (long)((deadline.At(now) - now) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)))));
        while (true)
        {
            if (TryAcquire(block, out slot))
            {
                return slot;
            }

            HelpRead();
            if (!backoff.Idle())
            {
                throw new TimeoutException(NoRoomMessage(block, timeout));
            }
        }
    }

    /// <summary>Why a call found no room: the slots or the arena, with the numbers (it said "all slots outstanding" when one call held the arena).</summary>
    private string NoRoomMessage(int block, TimeSpan timeout)
    {
        long free;
        lock (_lock)
        {
            free = _arena.FreeBytes;
        }

        int outstanding = Outstanding;
        string arena = block == 0 ? "" : $" and {free} of the arena's {ArenaLength} bytes are free{(free >= block ? " (not in one piece)" : "")}";
        return $"No call slot and {block} bytes of arena became free within {timeout.TotalMilliseconds} ms: {outstanding} of {MaxCalls} calls are outstanding{arena}. "
            + "The server is slow or stalled, or the calls in flight hold the arena: wait longer, call with less data, or ask for a larger arena (RpcClientOptions.ArenaLength).";
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryAcquire(int block, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RpcCallSlot? slot)
    {
        ThrowIfLost();
        if (block == 0)
        {
            // Most calls of a single-threaded caller: the slot it just gave back, without the lock.
            int spare = Interlocked.Exchange(ref _spareSlot, -1);
            if (spare >= 0)
            {
                slot = _slots[spare];
                slot.DataOffset = 0;
                slot.BlockLength = 0;
                return true;
            }
        }

        lock (_lock)
        {
            long offset = 0;
            if (block == 0 || _arena.TryAllocate(block, out offset))
            {
                // The spare first (the slot freed last, as the free list is last-in first-out); it is free for calls with a payload too.
                int index = Volatile.Read(ref _spareSlot) >= 0 ? Interlocked.Exchange(ref _spareSlot, -1) : -1;
                if (index < 0 && _freeCount > 0)
                {
                    index = _free[--_freeCount];
                }

                if (index >= 0)
                {
                    slot = _slots[index];
                    slot.DataOffset = offset;
                    slot.BlockLength = block;
                    return true;
                }

                if (block > 0)
                {
                    _arena.Free(offset, block);
                }
            }
        }

        slot = null;
        return false;
    }

    private unsafe void Submit(RpcCallSlot slot, uint opcode, in RpcArgs args, ReadOnlySpan<byte> input, int outCapacity, bool isAsync, Memory<byte> asyncOutput)
    {
        slot.OutCapacity = outCapacity;
        ulong id = slot.Arm(isAsync, asyncOutput);
        if (isAsync)
        {
            Interlocked.Increment(ref _asyncPending);
        }

        // Plain stores into our block: published by the release of the request's sequence below.
        if (!input.IsEmpty)
        {
            input.CopyTo(new Span<byte>(_region.Arena + slot.DataOffset, input.Length)); // no call into Memmove for a call without input
        }
        var request = new RpcWireRequest
        {
            Id = id,
            Opcode = opcode,
            DataOffset = (uint)slot.DataOffset,
            InLength = (uint)input.Length,
            OutCapacity = (uint)outCapacity,
            Args = args,
        };
        bool written;
        try
        {
            written = _region.Requests.Engine.TryWrite<RpcWireRequest, MultiProducer>(request); // the MPSC path, no mode check
        }
        catch (RingCorruptedException e)
        {
            Lose(LibC.EPROTO, $"The server corrupted the request ring: {e.Message}");
            written = false;
        }

        if (!written)
        {
            // Every outstanding call holds one slot, so an honest server's ring always has room.
            Lose(LibC.EPROTO, "The request ring is full although no call slot is free to fill it: the server moved its position.");
        }

        _serverWait.WakeIfSleeping(_serverBell);
    }

    private ValueTask<RpcResult> Start(RpcCallSlot slot, uint opcode, in RpcArgs args, ReadOnlySpan<byte> input, Memory<byte> output, CancellationToken cancellationToken)
    {
        // The lease taken by the caller is now the call's: released in GetResult.
        Submit(slot, opcode, args, input, output.Length, isAsync: true, output);
        slot.Register(cancellationToken);
        EnsureReceiver();
        if (Volatile.Read(ref _reader) == 0)
        {
            _receiverWake.Set();
        }

        return new ValueTask<RpcResult>(slot, slot.Core.Version);
    }

    private async ValueTask<RpcResult> CallSlowAsync(uint opcode, RpcArgs args, ReadOnlyMemory<byte> input, Memory<byte> output, int block, CancellationToken cancellationToken)
    {
        var backoff = new ProducerBackoff(_wait, timeout: null);
        while (true)
        {
            Enter();
            if (TryAcquireOrExit(block, out RpcCallSlot? slot))
            {
                return await Start(slot, opcode, args, input.Span, output, cancellationToken).ConfigureAwait(false);
            }

            HelpRead();
            await backoff.IdleAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private bool TryAcquireOrExit(int block, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RpcCallSlot? slot)
    {
        try
        {
            if (TryAcquire(block, out slot))
            {
                return true;
            }
        }
        catch
        {
            Exit();
            throw;
        }

        Exit();
        return false;
    }

    // ---- waiting and reading --------------------------------------------------------------------

    /// <summary>Returns when the call is no longer pending, or at the deadline.</summary>
    private void WaitForAnswer(RpcCallSlot slot, ref CallDeadline deadline)
    {
        var phaser = new BackoffPhaser(_wait.SpinBudget, _wait.YieldBudget);
        while (Volatile.Read(ref slot.State) == RpcCallSlot.Pending)
        {
            if (TryEnterReader())
            {
                try
                {
                    ReadUntil(slot, ref deadline, ref phaser);
                }
                finally
                {
                    ExitReader();
                }

                if (Volatile.Read(ref slot.State) != RpcCallSlot.Pending || deadline.HasPassed(Stopwatch.GetTimestamp()))
                {
                    return;
                }

                continue;
            }

            // Another thread reads: it sets our event when it routes our answer or leaves the role.
            slot.Event.Reset();
            Interlocked.Exchange(ref slot.SyncWaiting, 1);
            Interlocked.Increment(ref _syncWaiters); // full fence: pairs with ExitReader (store reader, fence, load waiters)
            try
            {
                long now = Stopwatch.GetTimestamp();
                long left = deadline.At(now) - now;
                if (left <= 0)
                {
                    return;
                }

                if (Volatile.Read(ref slot.State) == RpcCallSlot.Pending && Volatile.Read(ref _reader) != 0)
                {
                    slot.Event.Wait(TimeSpan.FromTicks(Math.Min(BackoffPhaser.ToTicks(_wait.MaxParkTime), left) * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                }
            }
            finally
            {
                Volatile.Write(ref slot.SyncWaiting, 0);
                Interlocked.Decrement(ref _syncWaiters);
            }
        }
    }

    /// <summary>
    /// As the reader: routes responses until <paramref name="slot"/> is answered (or, for the
    /// receiver, <paramref name="slot"/> null, until no asynchronous call is outstanding), the
    /// session ends, or the deadline passes. Spins, yields, then sleeps in the doorbell.
    /// </summary>
    private void ReadUntil(RpcCallSlot? slot, ref CallDeadline deadline, ref BackoffPhaser phaser)
    {
        bool ended = false;
        while (true)
        {
            // Only our own words, not server_state: it shares its cache line with the server's
            // responses_sent, written every batch, so reading it would cost a cache miss per call.
            // A stopped server is seen by the peer watcher (STOPPED is written before the
            // connection closes) and by the check before each park.
            if (ended || Volatile.Read(ref _lostErrno) != 0)
            {
                FailAll();
                return;
            }

            int routed = DrainResponses(slot);
            if (slot is null ? Volatile.Read(ref _asyncPending) == 0 || Volatile.Read(ref _disposed) != 0 : Volatile.Read(ref slot.State) != RpcCallSlot.Pending)
            {
                return;
            }

            if (routed > 0)
            {
                phaser.Reset();
                continue;
            }

            // The only clock read of a call answered while we spin (the first one starts its deadline).
            long now = Stopwatch.GetTimestamp();
            if (now >= deadline.At(now))
            {
                if (RpcPeerLiveness.HasHungUp(_connection))
                {
                    LoseConnection();
                    continue;
                }

                return;
            }

            var probe = new ReaderProbe(this, slot);
            if (!phaser.SpinOrYield(now, ref probe))
            {
                if (SessionEnded())
                {
                    ended = true;
                    continue;
                }

                long slice = Math.Min(BackoffPhaser.ToTicks(_wait.MaxParkTime), deadline.At(now) - now);
                if (!_clientWait.Park(ref probe, _clientBell, TimeSpan.FromTicks(slice * TimeSpan.TicksPerSecond / Stopwatch.Frequency))
                    && RpcPeerLiveness.HasHungUp(_connection))
                {
                    LoseConnection(); // the watcher's safety net
                }
            }
        }
    }

    /// <summary>Routes what is in the response ring now, unless another thread reads (tests use it after writing raw responses).</summary>
    internal void PollResponses()
    {
        Enter();
        try
        {
            HelpRead();
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Routes what is in the response ring now if no other thread reads (frees slots of timed-out calls).</summary>
    private void HelpRead()
    {
        if (!TryEnterReader())
        {
            return;
        }

        try
        {
            if (SessionEnded())
            {
                FailAll();
            }
            else
            {
                DrainResponses();
            }
        }
        finally
        {
            ExitReader();
        }
    }

    /// <summary>
    /// The receiver thread: it holds a lease (taken in <see cref="EnsureReceiver"/>) for as long
    /// as it runs, so nothing it uses is released under it; if <see cref="Dispose"/> stopped
    /// waiting for it, it finishes the disposal as it ends (one exchange decides who does).
    /// </summary>
    private void ReceiverMain()
    {
        try
        {
            ReceiverLoop();
        }
        finally
        {
            if (Interlocked.Exchange(ref _receiverEnd, ReceiverEnded) == DisposeHandedOver)
            {
                FinishDispose();
            }

            Exit();
        }
    }

    private void ReceiverLoop()
    {
        var phaser = new BackoffPhaser(_wait.SpinBudget, _wait.YieldBudget);
        while (Volatile.Read(ref _disposed) == 0)
        {
            ReceiverTurnHook?.Invoke();
            _receiverWake.Reset();
            if (Volatile.Read(ref _asyncPending) > 0 && TryEnterReader())
            {
                try
                {
                    phaser.Reset();
                    var forever = new CallDeadline(WaitDeadline.MaxTicks);
                    ReadUntil(null, ref forever, ref phaser);
                }
                finally
                {
                    ExitReader();
                }

                continue;
            }

            if (Volatile.Read(ref _abandonedSync) > 0)
            {
                // Only late answers of synchronous calls given up: looked for once per park time,
                // the role held for the look alone, so that the next synchronous caller still
                // reads its own answer (holding it until they came took every call's answer
                // through this thread, review29).
                HelpRead();
            }

            _receiverWake.Wait(_wait.MaxParkTime);
        }
    }

    private void EnsureReceiver()
    {
        if (Volatile.Read(ref _receiverClaimed) != 0 || Interlocked.Exchange(ref _receiverClaimed, 1) != 0)
        {
            return;
        }

        if (!TryEnter())
        {
            return; // disposed: Dispose fails the calls, no receiver is needed
        }

        var thread = new Thread(ReceiverMain) { IsBackground = true, Name = $"rpc receiver (session {SessionId})" };
        try
        {
            thread.Start();
        }
        catch
        {
            Exit(); // no thread to hold the lease
            throw;
        }

        Volatile.Write(ref _receiver, thread); // a Dispose that reads null meanwhile finishes itself; this thread's lease keeps the session until it ends
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryEnterReader() => Volatile.Read(ref _reader) == 0 && Interlocked.CompareExchange(ref _reader, 1, 0) == 0;

    private void ExitReader()
    {
        // Full fence between giving up the role and looking for waiters (pairs with WaitForAnswer).
        Interlocked.Exchange(ref _reader, 0);
        if (Volatile.Read(ref _syncWaiters) > 0)
        {
            foreach (var slot in _slots)
            {
                if (Volatile.Read(ref slot.SyncWaiting) != 0)
                {
                    slot.Event.Set();
                }
            }
        }

        // Asynchronous calls only: late answers of synchronous calls given up wait for the
        // receiver's next look (one per park time), not for every role's end.
        if (Volatile.Read(ref _asyncPending) > 0)
        {
            _receiverWake.Set();
        }
    }

    private int DrainResponses(RpcCallSlot? own = null)
    {
        var router = new Router(this, own);
        try
        {
            return _region.Responses.Drain(ref router);
        }
        catch (RingCorruptedException e)
        {
            Lose(LibC.EPROTO, $"The server corrupted the response ring: {e.Message}");
            return 0;
        }
    }

    /// <summary>Routes one response by its id (see RpcCallSlot for the rules).</summary>
    private void Route(in RpcWireResponse shared, RpcCallSlot? own)
    {
        RpcWireResponse response = shared; // one copy: the server may change the slot, we decide on the copy
        uint index = RpcLayout.SlotOf(response.Id);
        uint generation = RpcLayout.GenerationOf(response.Id);
        if (index >= (uint)_slots.Length)
        {
            Interlocked.Increment(ref _unknownIds);
            return;
        }

        if (generation == 0)
        {
            Interlocked.Increment(ref _staleIds); // no call ever has generation 0
            return;
        }

        RpcCallSlot slot = _slots[index];
        long open = ((long)generation << 32) | 1;
        // Takes the server side of exactly this generation, or nothing. No CAS: only the reader
        // closes a ticket, and a slot is armed again only after its ticket was closed and the
        // slot freed (RpcCallSlot). Acquire: pairs with Arm's release of the ticket.
        long ticket = Volatile.Read(ref slot.Ticket);
        if (ticket != open)
        {
            Interlocked.Increment(ref (ticket >> 32) == generation ? ref _duplicateIds : ref _staleIds);
            return;
        }

        slot.Ticket = open & ~1L;

        bool valid = response.Result < 0 || response.OutLength <= (uint)slot.OutCapacity;
        slot.Result = valid ? response.Result : -LibC.EPROTO;
        slot.OutLength = valid && response.Result >= 0 ? (int)response.OutLength : 0;
        if (!valid)
        {
            // First, so that the failed call reports it: the server broke the protocol, trust nothing more from it.
            Interlocked.Increment(ref _invalid);
            Lose(LibC.EPROTO, $"The server answered with {response.OutLength} bytes of output where the call allowed {slot.OutCapacity}.");
        }

        Finish(slot, valid ? RpcCallSlot.Completed : RpcCallSlot.Failed, ownCall: slot == own);
    }

    /// <summary>
    /// The server side of <paramref name="slot"/> is done: complete or fail the call, or count a
    /// late answer; drop the server's hold, or, when <paramref name="ownCall"/> (the reader routes
    /// the answer of the synchronous call it waits for), leave it to that caller, who drops both at once.
    /// </summary>
    private void Finish(RpcCallSlot slot, int outcome, bool ownCall = false)
    {
        if (slot.Index == ReaderSlot)
        {
            // Only the reader role's holder touches this slot: plain. Pending means its caller is
            // this thread, in CallAsReader, which takes it from here; else the call was given up.
            if (slot.State == RpcCallSlot.Pending)
            {
                slot.State = outcome;
                return;
            }

            if (outcome == RpcCallSlot.Completed)
            {
                Interlocked.Increment(ref _late);
            }

            FreeReaderSlot(slot);
            Interlocked.Decrement(ref _abandonedSync); // given up in CallAsReader, counted there
            return;
        }

        bool isAsync = slot.IsAsync;
        // Full fence CAS: publishes Result and OutLength to the caller that reads the state.
        if (Interlocked.CompareExchange(ref slot.State, outcome, RpcCallSlot.Pending) == RpcCallSlot.Pending)
        {
            if (ownCall && !isAsync)
            {
                slot.ServerHoldKept = true; // this thread is the caller: ReleaseCaller drops it
                return;
            }

            if (!isAsync)
            {
                // Only a caller that waits on the event needs it set (mostly the caller reads its own
                // answer). The CAS above is a full fence, as is the caller's store of SyncWaiting
                // before it reads State (WaitForAnswer): one of the two sees the other.
                if (Volatile.Read(ref slot.SyncWaiting) != 0)
                {
                    slot.Event.Set();
                }
            }
            else if (outcome == RpcCallSlot.Completed)
            {
                slot.Core.SetResult(new RpcResult(slot.Result, slot.OutLength));
            }
            else
            {
                slot.Core.SetException(Lost());
            }
        }
        else
        {
            if (outcome == RpcCallSlot.Completed)
            {
                Interlocked.Increment(ref _late);
            }

            if (!isAsync)
            {
                Interlocked.Decrement(ref _abandonedSync); // given up by TryAbandonSync, counted there
            }
        }

        if (isAsync)
        {
            Interlocked.Decrement(ref _asyncPending);
        }

        ReleaseHold(slot);
    }

    internal void Cancel(RpcCallSlot slot, CancellationToken token)
    {
        if (Interlocked.CompareExchange(ref slot.State, RpcCallSlot.Abandoned, RpcCallSlot.Pending) == RpcCallSlot.Pending)
        {
            Interlocked.Increment(ref _cancelled);
            slot.Core.SetException(new OperationCanceledException("The call was cancelled; its slot is freed when the late answer comes.", token));
        }
    }

    /// <summary>Copies a call's output out of the arena (called by the caller, who still holds the slot).</summary>
    internal unsafe RpcResult CopyOutput(RpcCallSlot slot, RpcResult result, Span<byte> output)
    {
        if (result.OutputLength > 0)
        {
            // Plain reads: published by the response's sequence (acquire by the reader), then the state CAS.
            new ReadOnlySpan<byte>(_region.Arena + slot.DataOffset, result.OutputLength).CopyTo(output);
        }

        return result;
    }

    /// <summary>Drops the caller's hold on a slot (and, for an asynchronous call, its lease on the client).</summary>
    internal void ReleaseCaller(RpcCallSlot slot)
    {
        bool isAsync = slot.IsAsync;
        ReleaseHold(slot, slot.ServerHoldKept ? 2 : 1);
        if (isAsync)
        {
            Exit();
        }
    }

    /// <summary>Frees the reader's slot (by the reader role's holder, once nobody can write into it).</summary>
    private void FreeReaderSlot(RpcCallSlot slot)
    {
        if (slot.BlockLength > 0)
        {
            lock (_lock)
            {
                _arena.Free(slot.DataOffset, slot.BlockLength);
            }

            slot.BlockLength = 0;
        }

        Volatile.Write(ref slot.State, RpcCallSlot.Free); // release: Outstanding reads it from any thread
    }

    private void ReleaseHold(RpcCallSlot slot, int holds = 1)
    {
        if (Interlocked.Add(ref slot.Holds, -holds) != 0)
        {
            return;
        }

        if (slot.BlockLength == 0)
        {
            slot.State = RpcCallSlot.Free;
            // Full fence CAS: the slot's fields are written before another thread can take it.
            if (Interlocked.CompareExchange(ref _spareSlot, (int)slot.Index, -1) == -1)
            {
                return;
            }
        }

        lock (_lock)
        {
            if (slot.BlockLength > 0)
            {
                _arena.Free(slot.DataOffset, slot.BlockLength);
            }

            slot.State = RpcCallSlot.Free;
            _free[_freeCount++] = (int)slot.Index;
        }
    }

    // ---- session end ------------------------------------------------------------------------------

    private bool SessionEnded()
    {
        if (Volatile.Read(ref _lostErrno) != 0)
        {
            return true;
        }

        if (_region.ServerState != RpcLayout.ServerRunning)
        {
            Lose(LibC.ESHUTDOWN, "The server ended the session (it is shutting down, or it dropped this client).");
            return true;
        }

        return false;
    }

    /// <summary>The connection closed: the server stopped the session (server_state STOPPED, written before the close) or died.</summary>
    private void LoseConnection()
    {
        if (!SessionEnded())
        {
            Lose(LibC.ECONNRESET, "The server closed the session or exited.");
        }
    }

    /// <summary>
    /// The peer watcher's callback (its thread): the server closed the connection or exited.
    /// Fails the session and wakes whoever waits, also a reader asleep in the doorbell, so that
    /// every outstanding call fails now rather than after a park slice.
    /// </summary>
    private void OnServerGone()
    {
        if (!TryEnter())
        {
            return; // disposed: nobody left to tell
        }

        try
        {
            LoseConnection();
            // The server is gone, so no other producer rings this wait block now (its counters may be single-producer).
            _clientWaitRing.WakeIfSleeping(_selfBell);
        }
        catch (UintrIpcException)
        {
            // The ring failed (eventfd closed under us?): the reader still sees the loss after its park slice.
        }
        finally
        {
            Exit();
        }
    }

    private void Lose(int errno, string reason)
    {
        lock (_lock)
        {
            if (_lostErrno != 0)
            {
                return;
            }

            _lostReason = reason;
            Volatile.Write(ref _lostErrno, errno);
        }

        // Wake everyone who waits, so that a reader fails their calls.
        foreach (var slot in _slots)
        {
            slot.Event.Set();
        }

        _receiverWake.Set();
    }

    /// <summary>As the reader (or in Dispose): fails every call whose server side is still open; nobody will write into those slots again.</summary>
    private void FailAll()
    {
        foreach (var slot in _slots)
        {
            long ticket = Volatile.Read(ref slot.Ticket); // acquire, as in Route; plain store: only the reader closes tickets
            if ((ticket & 1) != 0)
            {
                slot.Ticket = ticket & ~1L;
                Finish(slot, RpcCallSlot.Failed);
            }
        }
    }

    private void ThrowIfLost()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Volatile.Read(ref _lostErrno) != 0)
        {
            throw Lost();
        }
    }

    private RpcConnectionLostException Lost() => new(Volatile.Read(ref _lostErrno), _lostReason);

    private RpcConnectionLostException? LostOrNull() => Volatile.Read(ref _lostErrno) != 0 ? Lost() : null;

    // ---- lifetime ----------------------------------------------------------------------------------

    private void Enter()
    {
        ObjectDisposedException.ThrowIf(!TryEnter(), this);
    }

    /// <summary>Takes a lease unless the client is disposed.</summary>
    private bool TryEnter()
    {
        int leases = Volatile.Read(ref _leases);
        while (true)
        {
            if (leases == 0 || Volatile.Read(ref _disposed) != 0)
            {
                return false;
            }

            int seen = Interlocked.CompareExchange(ref _leases, leases + 1, leases);
            if (seen == leases)
            {
                return true;
            }

            leases = seen;
        }
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _leases) != 0)
        {
            return;
        }

        // Last lease: no call is in progress, no reader runs. The watch goes before the
        // connection: it holds the socket open, and its close is what tells the server.
        _peerWatch.Dispose();
        _serverBell.Dispose();
        _selfBell.Dispose();
        _clientBell.Dispose();
        _receiverWake.Dispose();
        _connection.Dispose();
        _region.Region.Dispose();
    }

    /// <summary>
    /// A synchronous call's deadline. Its timeout counts from the call's first clock read, in its
    /// first wait (for a free slot, or for the answer once the first poll finds nothing), so that
    /// a call that waits for nothing reads the clock at most once.
    /// </summary>
    private struct CallDeadline(long timeoutTicks)
    {
        private long _at;

        /// <summary>The deadline, started at <paramref name="now"/> if this is the first clock read (timeouts are at most WaitDeadline.MaxTicks: no overflow).</summary>
        internal long At(long now) => _at != 0 ? _at : _at = now + timeoutTicks;

        internal bool HasPassed(long now) => now >= At(now);
    }

    private readonly struct Router(RpcClient owner, RpcCallSlot? own) : ISlotHandler<RpcWireResponse>
    {
        public void Handle(in RpcWireResponse item) => owner.Route(item, own);
    }

    private readonly struct ReaderProbe(RpcClient owner, RpcCallSlot? slot) : IWaitProbe
    {
        // Never throws for a corrupted response slot: this probe also runs on the receiver
        // thread, where an exception would end the process; the drain it wakes reports it (Lose).
        public bool HasWork => owner._region.Responses.CanReadOrCorrupt || Volatile.Read(ref owner._lostErrno) != 0
            || (slot is null ? Volatile.Read(ref owner._disposed) != 0 : Volatile.Read(ref slot.State) != RpcCallSlot.Pending);
    }
}
