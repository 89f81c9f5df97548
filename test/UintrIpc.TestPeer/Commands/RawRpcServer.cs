using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CsCheck;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Rpc;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>What a hostile server does in one session (uintripc_rpc.h sections 2-7 broken one way at a time, or mixed).</summary>
internal enum ServerHostility
{
    Honest,
    WrongId,
    OutLength,
    Result,
    Unasked,
    Duplicate,
    ArenaScribble,
    ResponseRing,
    RequestRing,
    WaitBlocks,
    Control,
    EventFdJam,
    Welcome,
    WelcomeFds,
    RegionForged,
    RegionParts,
    Silence,
    Close,
    Exit,
    Scribbler,
    Mix,
}

/// <summary>One generated session of the hostile server: printable, and the same in the server and the client driver for (seed, case).</summary>
internal sealed record HostileServerCase(ServerHostility Kind, DoorbellKind Doorbell, int At, ulong Value, int Pick, int MixSeed)
{
    public override string ToString() => $"{Kind} doorbell {Doorbell} at request {At} value 0x{Value:x} pick {Pick} mix {MixSeed}";

    /// <summary>Values at the boundaries of the fields they go into (lengths, positions, ids, pids), or any.</summary>
    internal static readonly ulong[] s_words =
    [
        0, 1, 2, 3, 4, 5, 63, 64, 65, 4095, 4096, 4097, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1UL << 32, (1UL << 32) + 1,
        1UL << 62, (1UL << 62) + 1, 1UL << 63, ulong.MaxValue, ulong.MaxValue - 1,
    ];

    /// <summary>Kinds with equal weight, except Honest and Mix twice (the success path and a bit of everything).</summary>
    internal static readonly Gen<HostileServerCase> s_case = Gen.Select(
        Gen.Frequency((2, Gen.Const(ServerHostility.Honest)), (2, Gen.Const(ServerHostility.Mix)), (16, Gen.Int[1, (int)ServerHostility.Scribbler].Select(k => (ServerHostility)k))),
        Gen.Int[0, 2].Select(d => d == 0 ? DoorbellKind.Futex : d == 1 ? DoorbellKind.EventFd : DoorbellKind.None),
        Gen.Int[0, 5],
        Gen.Frequency((3, Gen.Int[0, s_words.Length - 1].Select(i => s_words[i])), (1, Gen.ULong)),
        Gen.Int[0, 1 << 16],
        Gen.Int,
        (kind, doorbell, at, value, pick, mix) => new HostileServerCase(kind, doorbell, at, value, pick, mix));
}

/// <summary>
/// A hostile RPC server: the bootstrap handshake a real RpcServer does (the same RpcRegion and
/// welcome), then the session broken as <see cref="HostileServerCase"/> says: answers with wrong
/// ids, lengths and results, answers never asked for or twice, the arena scribbled, the rings'
/// positions and sequences, the wait blocks and the control block forged (pids pointed at a
/// sentinel and at the client), the eventfd jammed, an impossible welcome or region, the wrong descriptors,
/// silence, the socket closed or the process gone at every step. The honest part answers a
/// call with result A0 and min(A1, out_capacity) bytes of the byte A2.
/// </summary>
internal sealed unsafe class RawRpcServer(HostileServerCase c, int[] sentinels)
{
    private int[] _targets = [];
    private static readonly TimeSpan s_quiet = TimeSpan.FromSeconds(15);
    private readonly Random _random = new(c.MixSeed);
    private RpcRegion? _region;
    private WaitBlock? _clientWait;
    private DoorbellSender? _clientBell;
    private volatile bool _stopScribbler;
    private bool _dropping;
    private BootstrapConnection? _connection;

    /// <summary>One step of the session; Close and Exit cases end it at their step.</summary>
    private enum Step { Accepted, HelloRead, WelcomeSent, RequestRead, Answered }

    /// <summary>Serves one session on an accepted connection; returns when the client hung up (or was quiet for 15 s), or exits the process in an Exit case.</summary>
    public void Serve(BootstrapConnection connection)
    {
        SafeFdHandle? clientEventFd = null;
        EventFdDoorbellReceiver? ownEventFd = null;
        Thread? scribbler = null;
        _connection = connection;
        _targets = [.. sentinels, connection.Peer.Pid]; // the client itself: a signal it sent there would kill it
        try
        {
            if (EndsAt(Step.Accepted, connection))
            {
                return;
            }

            using (BootstrapMessage hello = connection.Receive(s_quiet))
            {
                if (RpcHandshake.ReadHello(hello.Payload.Span, out _) is not { } parsed)
                {
                    return;
                }

                if (parsed.Doorbell == DoorbellKind.EventFd && hello.FdCount == 1)
                {
                    clientEventFd = hello.TakeEventFd(0, connection.Endpoint);
                }

                if (EndsAt(Step.HelloRead, connection))
                {
                    return;
                }

                int maxCalls = (int)Math.Clamp(parsed.MaxCalls == 0 ? 4 : parsed.MaxCalls, 2, 64);
                long arena = (long)Math.Clamp(parsed.ArenaLength == 0 ? 4096 : parsed.ArenaLength, 64, 1 << 20) & ~63L;
                if (c.Kind == ServerHostility.RegionParts)
                {
                    SendBrokenRegion(connection, parsed, maxCalls, arena);
                    return;
                }

                _region = RpcRegion.Create(maxCalls, arena, parsed.Doorbell, 0x5E4E4_0000UL | (uint)c.Pick, (ulong)c.Pick + 1, connection.Peer.Pid);
                ownEventFd = parsed.Doorbell == DoorbellKind.EventFd ? new EventFdDoorbellReceiver() : null;
                _clientWait = new WaitBlock(_region.Region, _region.ClientWaitPart, singleProducer: true);
                _clientBell = parsed.Doorbell switch
                {
                    DoorbellKind.Futex => new FutexDoorbellSender(_clientWait),
                    DoorbellKind.EventFd when clientEventFd is not null => new EventFdDoorbellSender(clientEventFd),
                    _ => new NoDoorbellSender(),
                };
                if (c.Kind == ServerHostility.EventFdJam)
                {
                    // The client's wake-ups find our counter full on a blocking description (a
                    // write(2) would wait for ever); its own counter is filled for its next sleep.
                    Jam(ownEventFd?.FileHandle, blocking: true);
                    Jam(clientEventFd, blocking: false);
                }

                SendWelcome(connection, parsed, maxCalls, arena, ownEventFd);
            }

            if (EndsAt(Step.WelcomeSent, connection))
            {
                return;
            }

            if (c.Kind is ServerHostility.Scribbler || (c.Kind == ServerHostility.Mix && (c.Pick & 7) == 0))
            {
                scribbler = new Thread(Scribble) { IsBackground = true, Name = "scribbler" };
                scribbler.Start();
            }

            Answer(connection);
        }
        catch (Exception e)
        {
            // Whatever our own forgeries break on our side ends this session only: the next case needs this process.
            Console.WriteLine($"server: session ended by {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _stopScribbler = true;
            scribbler?.Join();
            _clientBell?.Dispose();
            ownEventFd?.Dispose();
            clientEventFd?.Dispose();
            _region?.Region.Dispose();
            connection.Dispose();
        }
    }

    /// <summary>A Close or Exit case at its step: sets server_state STOPPED first when Pick says so, then closes the socket or exits.</summary>
    private bool EndsAt(Step step, BootstrapConnection connection)
    {
        if (c.Kind is not (ServerHostility.Close or ServerHostility.Exit) || (Step)(c.Pick % 5) != step)
        {
            return false;
        }

        if (_region is not null && (c.Pick & 8) != 0)
        {
            _region.MarkStopped();
        }

        if (c.Kind == ServerHostility.Exit)
        {
            Console.WriteLine($"server: exiting at {step}");
            Console.Out.Flush();
            Environment.Exit(0);
        }

        Console.WriteLine($"server: closing at {step}");
        connection.Dispose();
        return true;
    }

    private void SendWelcome(BootstrapConnection connection, RpcHandshake.Hello hello, int maxCalls, long arena, EventFdDoorbellReceiver? ownEventFd)
    {
        RpcRegion region = _region!;
        var welcome = new RpcHandshake.Welcome(0, hello.Doorbell, (uint)maxCalls, (ulong)arena, region.Region.Epoch, region.ServerEpoch, region.SessionId);
        byte[] payload = new byte[RpcLayout.WelcomeSize];
        var fds = new List<SafeHandle> { region.Region.FileHandle };
        if (ownEventFd is not null)
        {
            fds.Add(ownEventFd.FileHandle);
        }

        var owned = new List<SafeHandle>();
        if (c.Kind == ServerHostility.Welcome)
        {
            uint v = (uint)c.Value;
            welcome = (c.Pick % 9) switch
            {
                0 => welcome with { Status = (int)v },
                1 => welcome with { MaxCalls = v },
                2 => welcome with { ArenaLength = c.Value },
                3 => welcome with { RegionEpoch = welcome.RegionEpoch ^ (c.Value | 1) },
                4 => welcome with { ServerEpoch = welcome.ServerEpoch ^ (c.Value | 1) },
                5 => welcome with { SessionId = c.Value },
                6 => welcome with { Doorbell = (DoorbellKind)(ushort)v },
                _ => welcome,
            };
        }

        RpcHandshake.Write(payload, welcome);
        if (c.Kind == ServerHostility.Welcome && c.Pick % 9 == 7)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(4), (ushort)(c.Value | 2)); // version
        }

        if (c.Kind == ServerHostility.Welcome && c.Pick % 9 == 8)
        {
            payload = payload[..(int)(c.Value % RpcLayout.WelcomeSize)]; // truncated
        }

        if (c.Kind == ServerHostility.RegionForged)
        {
            ForgeRegion(region);
        }

        if (c.Kind == ServerHostility.WelcomeFds)
        {
            fds = WrongDescriptors(region, ownEventFd, owned);
        }

        try
        {
            connection.Send(payload, [.. fds]);
        }
        finally
        {
            owned.ForEach(h => h.Dispose());
        }
    }

    /// <summary>
    /// A region of the RPC kind whose parts are wrong (one missing, a ring of the other mode or
    /// element size, a control block or arena too short, two wait blocks with one tag), with a
    /// welcome that matches it; then waits for the client to hang up.
    /// </summary>
    private void SendBrokenRegion(BootstrapConnection connection, RpcHandshake.Hello hello, int maxCalls, long arena)
    {
        PartSpec[] parts = RpcRegion.Parts(maxCalls, arena, hello.Doorbell, 0x5E4E4_0000UL, 1, connection.Peer.Pid);
        int which = (c.Pick >> 3) % parts.Length;
        parts = (c.Pick % 7) switch
        {
            0 => [.. parts.Where((_, i) => i != which)],
            1 => [.. parts.Select((p, i) => i == 1 ? SlotRing<RpcWireRequest>.Part(maxCalls, multipleProducers: false, RpcLayout.RequestsTag) : p)],
            2 => [.. parts.Select((p, i) => i == 2 ? SlotRing<RpcWireResponse>.Part(maxCalls, multipleProducers: true, RpcLayout.ResponsesTag) : p)],
            3 => [.. parts.Select((p, i) => i == 0 ? new PartSpec(p.Kind, p.Tag, 64) : p)],
            4 => [.. parts.Select((p, i) => i == 3 ? p with { Length = 64 } : p)],
            5 => [.. parts.Select((p, i) => i == 5 ? p with { Tag = RpcLayout.ServerWaitTag } : p)],
            _ => [.. parts.Select((p, i) => i == 1 ? SlotRing<RpcWireResponse>.Part(maxCalls, multipleProducers: true, RpcLayout.RequestsTag) : p)],
        };
        using SharedRegion region = SharedRegion.CreateAnonymous(RpcLayout.RegionKind, parts);
        using var ownEventFd = hello.Doorbell == DoorbellKind.EventFd ? new EventFdDoorbellReceiver() : null;
        byte[] payload = new byte[RpcLayout.WelcomeSize];
        RpcHandshake.Write(payload, new RpcHandshake.Welcome(0, hello.Doorbell, (uint)maxCalls, (ulong)arena, region.Epoch, 0x5E4E4_0000UL, 1));
        if (ownEventFd is null)
        {
            connection.Send(payload, region.FileHandle);
        }
        else
        {
            connection.Send(payload, region.FileHandle, ownEventFd.FileHandle);
        }

        long start = Environment.TickCount64;
        while (!RpcPeerLiveness.HasHungUp(connection) && Environment.TickCount64 - start < s_quiet.TotalMilliseconds)
        {
            Thread.Sleep(1);
        }
    }

    /// <summary>The welcome's descriptors replaced: none, too many, a pipe, /dev/null, an eventfd or a memfd of garbage in either place.</summary>
    private List<SafeHandle> WrongDescriptors(RpcRegion region, EventFdDoorbellReceiver? ownEventFd, List<SafeHandle> owned)
    {
        SafeHandle Other(int which)
        {
            SafeHandle h;
            switch (which)
            {
                case 0:
                    var (read, write) = Pipe();
                    write.Dispose();
                    h = read;
                    break;
                case 1: h = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite); break;
                case 2: h = new SafeFdHandle(LibC.eventfd(0, LibC.EFD_CLOEXEC), ownsHandle: true); break;
                default: h = Garbage(); break;
            }

            owned.Add(h);
            return h;
        }

        int other = (c.Pick >> 4) % 4;
        return (c.Pick % 5) switch
        {
            0 => [],
            1 => [region.Region.FileHandle, region.Region.FileHandle, region.Region.FileHandle],
            2 => [Other(other), .. ownEventFd is null ? Array.Empty<SafeHandle>() : [ownEventFd.FileHandle]],
            3 => [region.Region.FileHandle, Other(other)],
            _ => ownEventFd is null ? [region.Region.FileHandle, region.Region.FileHandle] : [ownEventFd.FileHandle, region.Region.FileHandle],
        };
    }

    private static (SafeFdHandle Read, SafeFdHandle Write) Pipe()
    {
        int* ends = stackalloc int[2];
        if (LibC.pipe2(ends, LibC.O_CLOEXEC) != 0)
        {
            throw new InvalidOperationException("pipe2 failed");
        }

        return (new SafeFdHandle(ends[0], ownsHandle: true), new SafeFdHandle(ends[1], ownsHandle: true));
    }

    private SafeFdHandle Garbage()
    {
        byte* name = stackalloc byte[] { (byte)'g', 0 };
        var fd = new SafeFdHandle(LibC.memfd_create(name, LibC.MFD_CLOEXEC), ownsHandle: true);
        var bytes = new byte[8192];
        _random.NextBytes(bytes);
        bytes[0] |= 1; // never a zero magic: an attach would wait for the creator's init
        fixed (byte* b = bytes)
        {
            _ = LibC.write((int)fd.DangerousGetHandle(), b, bytes.Length);
        }

        return fd;
    }

    /// <summary>Immutable words of the region made impossible after creation, before the welcome: the client attaches this.</summary>
    private void ForgeRegion(RpcRegion region)
    {
        uint v = (uint)c.Value;
        byte* control = region.Control;
        byte* requests = Part(PartKind.MpscSlots, RpcLayout.RequestsTag, out _);
        byte* responses = Part(PartKind.SpscSlots, RpcLayout.ResponsesTag, out _);
        switch (c.Pick % 10)
        {
            case 0: *(uint*)(control + RpcLayout.ControlMaxCallsOffset) = v; break;
            case 1: *(ulong*)(control + RpcLayout.ControlArenaLengthOffset) = c.Value; break;
            case 2: *(ushort*)(control + RpcLayout.ControlDoorbellOffset) = (ushort)v; break;
            case 3: *(ushort*)(control + RpcLayout.ControlVersionOffset) = (ushort)(v | 2); break;
            case 4: *(uint*)(requests + RingLayout.CapacityOffset) = v; break;
            case 5: *(uint*)(responses + RingLayout.CapacityOffset) = v; break;
            case 6: *(uint*)(responses + RingLayout.SlotSizeOffset) = v; break;
            case 7: *(ulong*)(responses + RingLayout.DataOffsetOffset) = c.Value; break;
            case 8: *(ulong*)(requests + RingLayout.TailOffset) = c.Value; break;
            default: *(ulong*)(responses + RingLayout.HeadOffset) = c.Value; break;
        }
    }

    private byte* Part(PartKind kind, uint tag, out long length)
    {
        RegionPart part = _region!.Region.FindPart(kind, tag);
        length = part.Length;
        return _region.Region.PartPointer(part);
    }

    private static void Jam(SafeHandle? eventFd, bool blocking)
    {
        if (eventFd is null)
        {
            return;
        }

        int fd = (int)eventFd.DangerousGetHandle();
        int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        _ = LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK);
        ulong full = ulong.MaxValue - 1;
        _ = LibC.write(fd, &full, 8);
        if (blocking)
        {
            _ = LibC.fcntl(fd, LibC.F_SETFL, flags & ~LibC.O_NONBLOCK);
        }
    }

    /// <summary>Reads requests and answers them as the case says until the client hangs up, or for 15 s without a request.</summary>
    private void Answer(BootstrapConnection connection)
    {
        RpcRegion region = _region!;
        long last = Environment.TickCount64;
        int k = 0;
        bool readable = true;
        while (!RpcPeerLiveness.HasHungUp(connection) && Environment.TickCount64 - last < s_quiet.TotalMilliseconds)
        {
            RpcWireRequest request;
            try
            {
                if (!readable || !region.Requests.TryRead(out request))
                {
                    Thread.Sleep(1);
                    continue;
                }
            }
            catch (RingCorruptedException)
            {
                readable = false; // our own forgery (or the client's): stay silent until the hang-up
                continue;
            }

            last = Environment.TickCount64;
            if (EndsAt(k == c.At ? Step.RequestRead : (Step)(-1), connection))
            {
                return;
            }

            if (c.Kind == ServerHostility.EventFdJam)
            {
                // Asleep as far as the client can tell: every request of it rings our jammed eventfd.
                Volatile.Write(ref *(uint*)(Part(PartKind.WaitBlock, RpcLayout.ServerWaitTag, out _) + WaitBlockLayout.ConsumerStateOffset), WaitBlockLayout.ConsumerSleeping);
            }

            ServerHostility kind = c.Kind == ServerHostility.Mix ? (ServerHostility)_random.Next(0, (int)ServerHostility.Control + 1) : c.Kind;
            try
            {
                Handle(kind, request, k);
            }
            catch (Exception e)
            {
                Console.WriteLine($"server: request {k}: {e.GetType().Name}: {e.Message}"); // our forgery broke our own writer; go on
            }

            if (EndsAt(k == c.At ? Step.Answered : (Step)(-1), connection))
            {
                return;
            }

            k++;
        }
    }

    private void Handle(ServerHostility kind, in RpcWireRequest r, int k)
    {
        bool now = k == c.At || c.Kind == ServerHostility.Mix;
        RpcWireResponse honest = Honest(r);
        ulong v = c.Value;
        switch (kind)
        {
            case ServerHostility.Silence:
                return;
            case ServerHostility.WrongId when now:
                ulong[] ids = [r.Id ^ (1UL << 32), r.Id + (1UL << 32), r.Id | 0xFFFF, 0, v, (uint)r.Id, r.Id ^ 1];
                Write(honest with { Id = ids[(c.Pick + k) % ids.Length] });
                if ((c.Pick & 16) != 0)
                {
                    Write(honest);
                }

                break;
            case ServerHostility.OutLength when now:
                uint[] lengths = [r.OutCapacity + 1, (uint)_region!.ArenaLength, (uint)_region.ArenaLength + 1, 0x7FFFFFFF, 0x80000000, uint.MaxValue, (uint)v];
                Write(honest with { OutLength = lengths[(c.Pick + k) % lengths.Length], Result = (c.Pick & 32) != 0 ? -5 : honest.Result });
                break;
            case ServerHostility.Result when now:
                long[] results = [long.MinValue, long.MaxValue, -1, -4095, -4096, -4097, int.MinValue, (long)int.MaxValue + 1, -135, (long)v];
                Write(honest with { Result = results[(c.Pick + k) % results.Length] });
                break;
            case ServerHostility.Unasked when now:
                for (uint slot = 0; slot < (uint)_region!.MaxCalls + 2; slot++)
                {
                    for (uint generation = 0; generation < 4; generation++)
                    {
                        Write(new RpcWireResponse { Id = RpcLayout.MakeId(slot, generation), Result = 7, OutLength = (uint)v });
                    }
                }

                Write(honest);
                break;
            case ServerHostility.Duplicate:
                Write(honest);
                if (now)
                {
                    Write(honest with { Result = (long)v, OutLength = (uint)(v >> 3) });
                }

                break;
            case ServerHostility.ArenaScribble when now:
                Write(honest);
                Scribble(Part(PartKind.Arena, RpcLayout.ArenaTag, out long length), length);
                break;
            case ServerHostility.ResponseRing when now:
                Forge(Part(PartKind.SpscSlots, RpcLayout.ResponsesTag, out long responses), responses, RpcLayout.ResponseSize);
                Write(honest);
                break;
            case ServerHostility.RequestRing when now:
                Forge(Part(PartKind.MpscSlots, RpcLayout.RequestsTag, out long requests), requests, RpcLayout.RequestSize);
                Write(honest);
                break;
            case ServerHostility.WaitBlocks when now:
                ForgeWaitBlock(Part(PartKind.WaitBlock, RpcLayout.ClientWaitTag, out _));
                ForgeWaitBlock(Part(PartKind.WaitBlock, RpcLayout.ServerWaitTag, out _));
                Write(honest);
                break;
            case ServerHostility.Control when now:
                ForgeControl(_region!.Control);
                Write(honest);
                break;
            default:
                Write(honest);
                break;
        }
    }

    /// <summary>The honest answer: result A0, min(A1, out_capacity) bytes of the byte A2 (none when the block is not in the arena).</summary>
    private RpcWireResponse Honest(in RpcWireRequest r)
    {
        if (!_region!.BlockInArena(r.DataOffset, r.InLength, r.OutCapacity))
        {
            return new RpcWireResponse { Id = r.Id, Result = -LibC.EFAULT };
        }

        uint n = (uint)Math.Clamp(r.Args.A1, 0, r.OutCapacity);
        new Span<byte>(_region.Arena + r.DataOffset, (int)n).Fill((byte)r.Args.A2);
        return new RpcWireResponse { Id = r.Id, Result = r.Args.A0, OutLength = n };
    }

    /// <summary>
    /// Publishes one response and wakes the client (uintripc_rpc.h section 5, producer side),
    /// waiting at most 1 s for room; once the client read nothing for that long (it gave up on
    /// this session, or our forgery filled the ring), the rest of the session's answers are dropped.
    /// </summary>
    private void Write(in RpcWireResponse response)
    {
        long start = Environment.TickCount64;
        while (!_dropping && !_region!.Responses.TryWrite(response))
        {
            if (Environment.TickCount64 - start > 1000 || RpcPeerLiveness.HasHungUp(_connection!))
            {
                _dropping = true;
                return;
            }

            Thread.Sleep(1);
        }

        _clientWait!.WakeIfSleeping(_clientBell!);
    }

    /// <summary>One word of a ring part forged: a position, a sequence word, a descriptor field or a producer table entry.</summary>
    private void Forge(byte* ring, long length, int elementSize)
    {
        int slotSize = *(int*)(ring + RingLayout.SlotSizeOffset);
        long data = *(long*)(ring + RingLayout.DataOffsetOffset);
        long producers = *(long*)(ring + RingLayout.ProducerTableOffsetOffset);
        long[] offsets =
        [
            RingLayout.TailOffset, RingLayout.ClaimEndOffset, RingLayout.UnregisteredOffset, RingLayout.HeadOffset, RingLayout.ReleasingOffset,
            RingLayout.HeartbeatOffset, RingLayout.CapacityOffset, RingLayout.SlotSizeOffset, RingLayout.DataOffsetOffset,
            data, data + slotSize, data + (2L * slotSize), data + 8 + elementSize - 8, producers, producers + RingLayout.ProducerClaimOffset,
        ];
        long at = offsets[(c.Pick + (c.MixSeed & 0xFF)) % offsets.Length];
        if (at >= 0 && at + 8 <= length)
        {
            *(ulong*)(ring + at) = c.Value;
        }
    }

    private void ForgeWaitBlock(byte* block)
    {
        int target = _targets[c.Pick % _targets.Length];
        switch (c.Pick % 6)
        {
            case 0: *(uint*)(block + WaitBlockLayout.ConsumerStateOffset) = (uint)c.Value; break;
            case 1: *(uint*)(block + WaitBlockLayout.WakeWordOffset) = (uint)c.Value; break;
            case 2: *(uint*)(block + WaitBlockLayout.DoorbellKindOffset) = (uint)c.Value; break;
            case 3: *(uint*)(block + WaitBlockLayout.ChannelFlagsOffset) = (uint)c.Value; break;
            case 4: *(ulong*)(block + WaitBlockLayout.WakeupsSentOffset) = c.Value; break;
            default: break;
        }

        *(int*)(block + WaitBlockLayout.ConsumerPidOffset) = target;
        *(int*)(block + WaitBlockLayout.ConsumerTidOffset) = target;
    }

    private void ForgeControl(byte* control)
    {
        int target = _targets[c.Pick % _targets.Length];
        *(int*)(control + RpcLayout.ControlServerPidOffset) = target;
        *(int*)(control + RpcLayout.ControlClientPidOffset) = target;
        switch (c.Pick % 6)
        {
            case 0: Volatile.Write(ref *(uint*)(control + RpcLayout.ControlServerStateOffset), (uint)c.Value); break;
            case 1: *(uint*)(control + RpcLayout.ControlMaxCallsOffset) = (uint)c.Value; break;
            case 2: *(ulong*)(control + RpcLayout.ControlArenaLengthOffset) = c.Value; break;
            case 3: *(ushort*)(control + RpcLayout.ControlDoorbellOffset) = (ushort)c.Value; break;
            case 4: *(uint*)(control + RpcLayout.ControlMagicOffset) = (uint)c.Value; break;
            default: Volatile.Write(ref *(ulong*)(control + RpcLayout.ControlResponsesSentOffset), c.Value); break;
        }
    }

    private void Scribble(byte* at, long length)
    {
        var bytes = new Span<byte>(at, (int)Math.Min(length, int.MaxValue));
        _random.NextBytes(bytes);
    }

    /// <summary>The Scribbler case's thread: random values into random words of every part but the region header, until the session ends.</summary>
    private void Scribble()
    {
        var random = new Random(c.MixSeed ^ 0x5C41B);
        (PartKind Kind, uint Tag)[] parts =
        [
            ((PartKind)RpcLayout.ControlPartKind, RpcLayout.ControlTag), (PartKind.MpscSlots, RpcLayout.RequestsTag), (PartKind.SpscSlots, RpcLayout.ResponsesTag),
            (PartKind.Arena, RpcLayout.ArenaTag), (PartKind.WaitBlock, RpcLayout.ServerWaitTag), (PartKind.WaitBlock, RpcLayout.ClientWaitTag),
        ];
        while (!_stopScribbler)
        {
            var (kind, tag) = parts[random.Next(parts.Length)];
            byte* part = Part(kind, tag, out long length);
            long at = random.NextInt64(0, length / 8) * 8;
            *(ulong*)(part + at) = random.Next(3) == 0 ? HostileServerCase.s_words[random.Next(HostileServerCase.s_words.Length)] : (ulong)random.NextInt64();
            Thread.Sleep(random.Next(3));
        }
    }
}
