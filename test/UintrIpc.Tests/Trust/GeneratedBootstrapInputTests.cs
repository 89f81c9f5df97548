using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CsCheck;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// A hostile peer on the bootstrap socket, generated: frames mutated from valid ones (bit flips,
/// lengths and descriptor counts at their boundaries, truncation, unknown types and versions,
/// oversized payloads, more descriptors than allowed), RPC hellos and welcomes of any bytes, and
/// channel handovers whose payload is mutated and whose descriptors are of the wrong kind (a pipe,
/// an eventfd, /dev/null, a socket, a memfd of garbage, another channel's region). Each outcome is
/// checked against the spec (BootstrapFrame, uintripc_rpc.h section 6, IpcChannel.Bootstrap.cs):
/// delivered intact, or the documented exception, and every received descriptor closed. Cases
/// are pinned (<see cref="GeneratedCases"/>); the non-parallel collection keeps the descriptor
/// counts exact.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed unsafe class GeneratedBootstrapInputTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    /// <summary>A datagram as a hostile peer sends it, with the descriptors it attaches.</summary>
    internal sealed record Frame(byte[] Bytes, int FdsSent, string How)
    {
        public override string ToString() => $"{How}, {Bytes.Length} bytes, {FdsSent} fds, header {Convert.ToHexString(Bytes.AsSpan(0, Math.Min(16, Bytes.Length)))}";
    }

    private static readonly int[] s_payloadSizes = [0, 1, 15, 16, 17, 64, BootstrapMessage.MaxPayloadLength - 1, BootstrapMessage.MaxPayloadLength, BootstrapMessage.MaxPayloadLength + 1];

    internal static readonly Gen<Frame> s_frame = Gen.Select(
        Gen.Frequency((8, Gen.Int[0, 64]), (1, Gen.Int[0, s_payloadSizes.Length - 1].Select(i => s_payloadSizes[i]))),
        Gen.Frequency((10, Gen.Const((ushort)BootstrapFrameType.Data)), (2, Gen.UShort[1, 2]), (1, Gen.UShort)),
        Gen.Frequency((6, Gen.Int[0, 3]), (1, Gen.Int[15, 20])),
        Gen.Int[0, 8],
        Gen.UInt,
        Gen.Int[0, int.MaxValue],
        (payload, type, fds, mutation, value, at) =>
        {
            var bytes = new byte[BootstrapFrame.HeaderSize + payload];
            BootstrapFrame.WriteHeader(bytes, (BootstrapFrameType)type, payload, Math.Min(fds, BootstrapMessage.MaxFds));
            for (int i = BootstrapFrame.HeaderSize; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(i * 31);
            }

            uint[] boundaries = [0, (uint)payload - 1, (uint)payload + 1, (uint)fds - 1, (uint)fds + 1, 16, 17, 0x7FFFFFFF, 0x80000000, uint.MaxValue, value];
            switch (mutation)
            {
                case 1:
                    bytes[at % bytes.Length] ^= (byte)(1 << (int)(value % 8));
                    return new Frame(bytes, fds, $"bit {value % 8} of byte {at % bytes.Length} flipped");
                case 2:
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), boundaries[at % boundaries.Length]);
                    return new Frame(bytes, fds, "payload length field at a boundary");
                case 3:
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), boundaries[at % boundaries.Length]);
                    return new Frame(bytes, fds, "descriptor count field at a boundary");
                case 4:
                    return new Frame(bytes[..(at % (bytes.Length + 1))], fds, "truncated");
                case 5:
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), (ushort)value);
                    return new Frame(bytes, fds, "version");
                case 6:
                    new Random(at).NextBytes(bytes.AsSpan(0, Math.Min(bytes.Length, 16)));
                    return new Frame(bytes, fds, "random header");
                case 7:
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
                    return new Frame(bytes, fds, "magic");
                default:
                    return new Frame(bytes, fds, "unmutated");
            }
        });

    /// <summary>The spec of a frame (BootstrapFrame's doc comment), written independently of its Validate.</summary>
    private static bool IsValid(ReadOnlySpan<byte> d, int fds)
        => d.Length >= 16
        && BinaryPrimitives.ReadUInt32LittleEndian(d) == 0x53424955
        && BinaryPrimitives.ReadUInt16LittleEndian(d[4..]) == 1
        && BinaryPrimitives.ReadUInt16LittleEndian(d[6..]) is 1 or 2 or 3
        && BinaryPrimitives.ReadUInt32LittleEndian(d[8..]) == (ulong)(d.Length - 16)
        && BinaryPrimitives.ReadUInt32LittleEndian(d[12..]) == (ulong)fds;

    [Fact]
    public void Generated_frames_are_accepted_exactly_when_the_spec_says_so()
    {
        GeneratedCases.Check(s_frame, seed: 0x5EED_F4A3E, count: 4000, f =>
        {
            var type = BootstrapFrame.Validate(f.Bytes, f.FdsSent, out string? problem);
            bool valid = IsValid(f.Bytes, f.FdsSent);
            Assert.Equal(valid, problem is null);
            if (valid)
            {
                Assert.Equal(BinaryPrimitives.ReadUInt16LittleEndian(f.Bytes.AsSpan(6)), (ushort)type);
            }
        });
    }

    [Fact]
    public void Generated_frames_over_the_socket_arrive_intact_or_are_refused_with_every_descriptor_closed()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract("genframe"));
        using var eventFd = TestFds.EventFd();
        var sentFds = Enumerable.Repeat((int)eventFd.DangerousGetHandle(), 20).ToArray();
        Exchange(pair, GeneratedCases.Case(s_frame, 1, 0), sentFds); // warm-up: whatever the runtime opens lazily
        var before = TestFds.Snapshot();
        GeneratedCases.Check(s_frame, seed: 0x5EED_50C, count: 400, f =>
        {
            Exchange(pair, f, sentFds);
            Assert.Equal("", TestFds.AddedWhenSettled(before)); // a count failed once in CI: something else closed 5 meanwhile
        });
    }

    private static void Exchange(BootstrapPair pair, Frame f, int[] sentFds)
    {
        ForgedMessages.Send(pair.ServerSide.Socket, f.Bytes, sentFds.AsSpan(0, f.FdsSent));
        bool valid = IsValid(f.Bytes, f.FdsSent) && f.FdsSent <= BootstrapMessage.MaxFds && f.Bytes.Length <= BootstrapFrame.MaxDatagram
            && BinaryPrimitives.ReadUInt16LittleEndian(f.Bytes.AsSpan(6)) == (ushort)BootstrapFrameType.Data; // Accept and Refused only in the handshake
        if (valid)
        {
            using var message = pair.ClientSide.Receive(s_timeout);
            Assert.True(message.Payload.Span.SequenceEqual(f.Bytes.AsSpan(16)));
            Assert.Equal(f.FdsSent, message.FdCount);
        }
        else
        {
            Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.Receive(s_timeout).Dispose());
        }
    }

    private static readonly Gen<byte[]> s_handshakeBytes = Gen.Select(
        Gen.Frequency((3, Gen.Const(RpcLayout.HelloSize)), (3, Gen.Const(RpcLayout.WelcomeSize)), (1, Gen.Int[0, 80])),
        Gen.Int[0, 4], Gen.UInt, Gen.Byte.Array[80],
        (size, mutation, value, fill) =>
        {
            byte[] b = fill[..size];
            if (size >= 6 && mutation > 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(b, mutation == 1 ? value : RpcLayout.Magic);
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), mutation == 2 ? (ushort)value : RpcLayout.Version);
            }

            return b;
        });

    [Fact]
    public void Generated_rpc_hellos_and_welcomes_parse_exactly_when_size_magic_and_version_match()
    {
        GeneratedCases.Check(s_handshakeBytes, seed: 0x5EED_4E110, count: 3000, b =>
        {
            bool start = b.Length >= 6 && BinaryPrimitives.ReadUInt32LittleEndian(b) == RpcLayout.Magic && BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)) == RpcLayout.Version;
            var hello = RpcHandshake.ReadHello(b, out string? helloProblem);
            Assert.Equal(start && b.Length == RpcLayout.HelloSize, hello.HasValue);
            Assert.Equal(hello.HasValue, helloProblem is null);
            var welcome = RpcHandshake.ReadWelcome(b, out string? welcomeProblem);
            Assert.Equal(start && b.Length == RpcLayout.WelcomeSize, welcome.HasValue);
            Assert.Equal(welcome.HasValue, welcomeProblem is null);
            if (hello is { } h)
            {
                var again = new byte[RpcLayout.HelloSize];
                RpcHandshake.Write(again, h);
                Assert.Equal(h, RpcHandshake.ReadHello(again, out _));
            }

            if (welcome is { } w)
            {
                var again = new byte[RpcLayout.WelcomeSize];
                RpcHandshake.Write(again, w);
                Assert.Equal(w, RpcHandshake.ReadWelcome(again, out _));
            }
        });
    }

    /// <summary>What a hostile bootstrap client does before the server's ACCEPT frame reaches it.</summary>
    internal enum EarlyHangUp
    {
        /// <summary>Closes its socket right after connect, while the connection waits in the listener's queue.</summary>
        Close,

        /// <summary>shutdown(SHUT_RDWR), the socket kept open until the case ends.</summary>
        ShutdownBoth,

        /// <summary>shutdown(SHUT_RD): the ACCEPT cannot be delivered (EPIPE), the socket kept open.</summary>
        ShutdownRead,

        /// <summary>Sends a frame first (as if the handshake were done), then closes.</summary>
        SendThenClose,

        /// <summary>Closes while the server is inside Accept (after its first look at the queue).</summary>
        CloseDuringAccept,
    }

    /// <summary>Hostile clients queued ahead of a genuine one; Genuine false: none comes and the Accept must time out.</summary>
    internal sealed record EarlyClients(EarlyHangUp[] Hostile, bool Genuine)
    {
        public override string ToString() => $"[{string.Join(", ", Hostile)}], genuine {Genuine}";
    }

    private static readonly Gen<EarlyClients> s_earlyClients = Gen.Select(
        Gen.Int[0, (int)EarlyHangUp.CloseDuringAccept].Select(k => (EarlyHangUp)k).Array[1, 4],
        Gen.Frequency((5, Gen.Const(true)), (1, Gen.Const(false))),
        (hostile, genuine) => new EarlyClients(hostile, genuine));

    [Fact]
    public void Generated_clients_that_hang_up_before_ACCEPT_are_skipped_the_next_client_is_served_and_nothing_stays_open()
    {
        using var server = BootstrapServer.Listen(SocketNames.NewAbstract("early"));
        Early(server, new EarlyClients([EarlyHangUp.Close], Genuine: true)); // warm-up: whatever the runtime opens lazily
        var before = TestFds.Snapshot();
        GeneratedCases.Check(s_earlyClients, seed: 0x5EED_EA21, count: 120, c =>
        {
            Early(server, c);
            Assert.Equal("", TestFds.AddedWhenSettled(before));
        });
    }

    /// <summary>Queues the case's hostile clients, then (if any) a genuine one; the server's Accept must return the genuine one, or time out when there is none.</summary>
    private static void Early(BootstrapServer server, EarlyClients c)
    {
        var endpoint = BootstrapEndpoint.Parse(server.Endpoint);
        var open = new List<SafeFdHandle>();
        var closeLater = new List<SafeFdHandle>();
        Task<BootstrapConnection>? genuine = null;
        try
        {
            foreach (EarlyHangUp kind in c.Hostile)
            {
                var socket = UnixSocket.Create();
                open.Add(socket);
                Assert.Equal(0, UnixSocket.Connect(socket, endpoint));
                switch (kind)
                {
                    case EarlyHangUp.Close:
                        socket.Dispose();
                        break;
                    case EarlyHangUp.ShutdownBoth:
                        Assert.Equal(0, LibC.shutdown(socket.Fd, LibC.SHUT_RDWR));
                        break;
                    case EarlyHangUp.ShutdownRead:
                        Assert.Equal(0, LibC.shutdown(socket.Fd, LibC.SHUT_RD));
                        break;
                    case EarlyHangUp.SendThenClose:
                        byte[] frame = new byte[BootstrapFrame.HeaderSize + 8];
                        BootstrapFrame.WriteHeader(frame, BootstrapFrameType.Data, 8, 0);
                        ForgedMessages.Send(socket, frame, []);
                        socket.Dispose();
                        break;
                    default:
                        closeLater.Add(socket);
                        break;
                }
            }

            if (c.Genuine)
            {
                // Queued behind the hostile ones: its connect completes once the server skipped them.
                genuine = Task.Run(() => BootstrapConnection.Connect(server.Endpoint, s_timeout));
            }

            // Closed on another thread while the server works through the queue: before or during its handshake.
            var closer = Task.Run(() => closeLater.ForEach(s => s.Dispose()));
            if (!c.Genuine)
            {
                Assert.Throws<TimeoutException>((Action)(() =>
                {
                    for (int skipped = 0; ; skipped++)
                    {
                        // Only a client closed during the Accept after its ACCEPT may come out (see below).
                        using BootstrapConnection early = server.Accept(TimeSpan.FromMilliseconds(200));
                        Assert.True(closer.Wait(s_timeout));
                        Assert.True(RpcPeerLiveness.HasHungUp(early) && skipped < c.Hostile.Length, "a connection that did not hang up was accepted, and no genuine client came");
                    }
                }));
                Assert.True(closer.Wait(s_timeout));
                return;
            }

            BootstrapConnection accepted = server.Accept(s_timeout);
            Assert.True(closer.Wait(s_timeout));
            for (int skipped = 0; RpcPeerLiveness.HasHungUp(accepted); skipped++)
            {
                // A client closed during the Accept after the server's ACCEPT reached it was a peer
                // like any other when accepted (no server can tell); its hang-up shows now.
                Assert.True(skipped < c.Hostile.Length, "more hung-up connections accepted than hostile clients");
                accepted.Dispose();
                accepted = server.Accept(s_timeout);
            }

            using var served = accepted;
            Assert.True(genuine!.Wait(s_timeout), "the genuine client's connect did not end");
            using BootstrapConnection client = genuine.Result;
            served.Send("served"u8);
            using BootstrapMessage message = client.Receive(s_timeout);
            Assert.Equal("served", System.Text.Encoding.ASCII.GetString(message.Payload.Span));
        }
        finally
        {
            if (genuine is not null && genuine.Wait(s_timeout) && genuine.IsCompletedSuccessfully)
            {
                genuine.Result.Dispose();
            }

            open.ForEach(s => s.Dispose());
        }
    }

    /// <summary>What a hostile channel sender attaches: the kinds a descriptor can be.</summary>
    internal enum FdKind
    {
        GenuineRegion,
        OtherChannelRegion,
        EventFd,
        PipeReadEnd,
        DevNull,
        Socket,
        GarbageMemfd,
        ArenaRegion,
    }

    internal sealed record Handover(int Receiver, DoorbellKind Doorbell, int Mutation, uint Value, int At, FdKind[] Fds)
    {
        public override string ToString() => $"receiver {Receiver}, doorbell {Doorbell}, mutation {Mutation} value {Value} at {At}, fds [{string.Join(", ", Fds)}]";
    }

    private static readonly Gen<FdKind> s_fdKind = Gen.Frequency(
        (6, Gen.Const(FdKind.GenuineRegion)), (3, Gen.Const(FdKind.EventFd)), (1, Gen.Const(FdKind.OtherChannelRegion)), (1, Gen.Const(FdKind.PipeReadEnd)),
        (1, Gen.Const(FdKind.DevNull)), (1, Gen.Const(FdKind.Socket)), (1, Gen.Const(FdKind.GarbageMemfd)), (1, Gen.Const(FdKind.ArenaRegion)));

    private static readonly Gen<Handover> s_handover = Gen.Select(
        Gen.Int[0, 2], Gen.Bool.Select(futex => futex ? DoorbellKind.Futex : DoorbellKind.EventFd), Gen.Frequency((3, Gen.Const(0)), (6, Gen.Int[1, 5])), Gen.UInt, Gen.Int[0, 100],
        Gen.Frequency((6, Gen.Const(0)), (2, Gen.Int[1, 3])),
        s_fdKind.Array[0, 3],
        (receiver, doorbell, mutation, value, at, fdShape, random) =>
        {
            // Mostly the descriptors the genuine message carries, with one replaced; sometimes any.
            FdKind[] genuine = doorbell == DoorbellKind.EventFd ? [FdKind.GenuineRegion, FdKind.EventFd] : [FdKind.GenuineRegion];
            FdKind[] fds = fdShape switch
            {
                0 => genuine,
                1 when random.Length > 0 => [.. genuine.Select((k, i) => i == at % genuine.Length ? random[0] : k)],
                _ => random,
            };
            return new Handover(receiver, doorbell, mutation, value, at, fds);
        });

    [Fact]
    public void Generated_channel_handovers_give_a_working_writer_or_a_documented_error_and_leak_nothing()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract("genchan"));
        Hand(pair, new Handover(0, DoorbellKind.EventFd, 0, 0, 0, [FdKind.GenuineRegion, FdKind.EventFd])); // warm-up
        var before = TestFds.Snapshot();
        int delivered = 0;
        GeneratedCases.Check(s_handover, seed: 0x5EED_C4A7, count: 300, h =>
        {
            delivered += Hand(pair, h) ? 1 : 0;
            Assert.Equal("", TestFds.AddedWhenSettled(before));
        });
        Assert.True(delivered > 30, $"only {delivered} of 300 handovers were accepted: the generator no longer reaches the success path");
    }

    /// <summary>Sends one hostile handover and receives it; true when the writer works.</summary>
    private static bool Hand(BootstrapPair pair, Handover h)
    {
        var options = new IpcChannelOptions { Doorbell = h.Doorbell, Capacity = 8, BufferSize = 4096, MaxMessageLength = 64 };
        var otherOptions = options with { Doorbell = h.Doorbell == DoorbellKind.Futex ? DoorbellKind.EventFd : DoorbellKind.Futex };
        using var slots = IpcChannel.CreateBounded<long>(options);
        using var messages = IpcChannel.CreateMessages(options);
        using var duplex = IpcChannel.CreateDuplex<long, long>(options);
        using var other = IpcChannel.CreateBounded<long>(otherOptions);
        using var arena = SharedRegion.CreateAnonymous(new PartSpec(PartKind.Arena, 0, 4096));
        SharedRegion genuine = h.Receiver switch { 0 => slots.Region, 1 => messages.Region, _ => duplex.Region };
        SafeHandle? doorbell = h.Receiver switch { 0 => slots.Reader.Core.DoorbellFd, 1 => messages.Reader.Core.DoorbellFd, _ => duplex.Requests.Reader.Core.DoorbellFd };

        // The genuine payload, as SendChannel writes it (IpcChannel.Bootstrap.cs), then mutated.
        byte[] payload = new byte[h.Receiver == 2 ? 20 : 16];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, 0x48434955);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(6), (ushort)(h.Receiver + 1));
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), (uint)h.Doorbell);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(12), h.Receiver == 1 ? 64 : sizeof(long));
        if (h.Receiver == 2)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(16), sizeof(long));
        }

        uint[] boundaries = [0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 63, 64, 65, 0x7FFFFFFF, 0x80000000, uint.MaxValue, h.Value];
        switch (h.Mutation)
        {
            case 1: payload[h.At % payload.Length] ^= (byte)(1 << (int)(h.Value % 8)); break;
            case 2: BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), boundaries[h.At % boundaries.Length]); break; // doorbell
            case 3: BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(12), boundaries[h.At % boundaries.Length]); break; // size
            case 4: BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(6), (ushort)boundaries[h.At % boundaries.Length]); break; // kind
            case 5: payload = payload[..(h.At % (payload.Length + 1))]; break;
        }

        var fds = new List<SafeHandle>();
        try
        {
            foreach (FdKind kind in h.Fds)
            {
                fds.Add(Descriptor(kind, genuine, other.Region, arena, doorbell));
            }

            pair.ServerSide.Send(payload, [.. fds]);
        }
        finally
        {
            foreach (var fd in fds)
            {
                if (fd is { } own && own != genuine.FileHandle && own != other.Region.FileHandle && own != arena.FileHandle && own != doorbell)
                {
                    own.Dispose();
                }
            }
        }

        try
        {
            switch (h.Receiver)
            {
                case 0:
                    using (var received = pair.ClientSide.ReceiveChannel<long>(s_timeout))
                    {
                        Assert.True(received.Writer.TryWrite(42));
                        IpcChannel<long> source = received.Region.Size == other.Region.Size && other.Reader.TryRead(out long o) ? throw new Xunit.Sdk.XunitException($"wrote into the other channel: {o}") : slots;
                        Assert.True(source.Reader.TryRead(out long value));
                        Assert.Equal(42, value);
                    }

                    return true;
                case 1:
                    using (var received = pair.ClientSide.ReceiveMessageChannel(s_timeout))
                    {
                        Assert.True(received.Writer.TryWrite(5, "hostile?"u8));
                        var buffer = new byte[64];
                        Assert.True(messages.Reader.TryRead(out int type, buffer, out int length));
                        Assert.Equal((5, "hostile?"), (type, System.Text.Encoding.ASCII.GetString(buffer, 0, length)));
                    }

                    return true;
                default:
                    // The receiver answers with a reply on the same connection: drain it, then check the request ring.
                    using (var received = pair.ClientSide.ReceiveDuplexChannel<long, long>(s_timeout))
                    {
                        using var reply = pair.ServerSide.Receive(s_timeout);
                        Assert.True(received.Requests.Writer.TryWrite(43));
                        Assert.True(duplex.Requests.Reader.TryRead(out long value));
                        Assert.Equal(43, value);
                    }

                    return true;
            }
        }
        catch (Exception e) when (e is BootstrapProtocolException or RegionFormatException || e.GetType() == typeof(UintrIpcException))
        {
            return false;
        }
    }

    private static SafeHandle Descriptor(FdKind kind, SharedRegion genuine, SharedRegion other, SharedRegion arena, SafeHandle? doorbell)
    {
        switch (kind)
        {
            case FdKind.GenuineRegion: return genuine.FileHandle;
            case FdKind.OtherChannelRegion: return other.FileHandle;
            case FdKind.ArenaRegion: return arena.FileHandle;
            case FdKind.EventFd: return doorbell ?? TestFds.EventFd();
            case FdKind.PipeReadEnd:
                var (read, write) = TestFds.Pipe();
                write.Dispose();
                return read;
            case FdKind.DevNull: return File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite);
            case FdKind.Socket: return new SafeFdHandle(LibC.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0), ownsHandle: true);
            default:
                byte* name = stackalloc byte[] { (byte)'g', 0 };
                int fd = LibC.memfd_create(name, LibC.MFD_CLOEXEC);
                var bytes = new byte[8192];
                new Random(fd).NextBytes(bytes);
                bytes[0] |= 1; // never a zero magic: an attach would wait for the creator's init
                fixed (byte* b = bytes)
                {
                    Assert.Equal(bytes.Length, (long)LibC.write(fd, b, bytes.Length));
                }

                return new SafeFdHandle(fd, ownsHandle: true);
        }
    }
}
