using System.Buffers.Binary;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// One bootstrap message carries a whole channel to the producer's process: payload [magic
// "UICH" u32 | version u16 (2: the sender counted the writer in, uintripc.h 4b; 1 still read) | channel kind u16 (1 slots, 2 messages) | doorbell kind u32 |
// element size (slots) or max message length (messages) u32], descriptors [region memfd, then
// the consumer's doorbell fd for eventfd and uintr]. For the signal doorbell nothing more is
// sent: the producer signals the connection's peer process, pinned by the kernel (uintripc.h section 3). The receiver
// checks every field against what it expects and against the region, closes every descriptor
// it does not keep, and refuses anything else with a BootstrapProtocolException.

public static partial class IpcChannel
{
    private const uint Magic = 0x48434955; // "UICH"
    /// <summary>2: the sender counted the new writer in (uintripc.h 4b) and the receiving writer takes that count over; 1 (older senders, still accepted): it counts itself.</summary>
    private const ushort Version = 2;
    private const ushort OldestVersion = 1;
    private const ushort SlotChannel = 1;
    private const ushort MessageChannel = 2;
    private const int PayloadLength = 16;
    /// <summary>Channel kinds of the duplex exchange (IpcChannel.Duplex.cs), whose payload adds the response size.</summary>
    private const ushort DuplexChannel = 3;
    private const ushort DuplexReply = 4;
    private const int DuplexPayloadLength = 20;

    // A well-formed message of another shape: the two programs disagree, which no version check would fix.
    private const string TypeMismatchAdvice =
        "The sender created it with other element types: receive it with types of those sizes (the sender's own structs)";

    private static BootstrapProtocolException KindMismatch(BootstrapConnection connection, string problem)
        => new(connection.Endpoint, problem, "Both programs must hand over and receive the same kind of channel");

    /// <summary>
    /// Hands <paramref name="channel"/> to the peer process, which receives it with
    /// <see cref="ReceiveChannel{T}"/> and writes to it: sends the region and the reader's
    /// doorbell in one message, creating the <see cref="IpcChannel{T}.Reader"/> first if needed
    /// (on this thread). The reader then watches the peer: once it has exited and the ring is
    /// drained, waits end with <see cref="PeerGoneException"/>. Without
    /// <see cref="IpcChannelOptions.MultipleWriters"/> the channel has one writer: it goes to one
    /// writer process at a time (to another once that one has exited), and not at all once its
    /// <see cref="IpcChannel{T}.Writer"/> was created in this process.
    /// </summary>
    /// <example>
    /// The reader's process (the server, listening on <c>server</c>, created <c>channel</c>):
    /// <!-- snippet-context reader-process
    /// using var server = BootstrapServer.Listen("@my-service");
    /// using var channel = IpcChannel.CreateBounded<long>(1024);
    /// -->
    /// <!-- snippet: fragment reader-process -->
    /// <code>
    /// using var connection = server.Accept(TimeSpan.FromSeconds(10));
    /// connection.SendChannel(channel);
    /// long value = channel.Reader.Read(TimeSpan.FromSeconds(10));
    /// </code>
    /// The writer's process (the client):
    /// <!-- snippet-context writer-process
    /// string endpoint = "@my-service";
    /// -->
    /// <!-- snippet: fragment writer-process -->
    /// <code>
    /// using var connection = BootstrapConnection.Connect(endpoint, TimeSpan.FromSeconds(10));
    /// using var channel = connection.ReceiveChannel&lt;long&gt;(TimeSpan.FromSeconds(10));
    /// channel.Writer.TryWrite(42, TimeSpan.FromSeconds(1));
    /// </code>
    /// </example>
    /// <exception cref="TimeoutException">The peer did not make room in time.</exception>
    /// <exception cref="PeerGoneException">The peer's process has exited (nothing was sent).</exception>
    /// <exception cref="UintrIpcException">The peer closed the connection, or sendmsg failed.</exception>
    /// <exception cref="InvalidOperationException">The channel has one writer (no <see cref="IpcChannelOptions.MultipleWriters"/>) and its <c>Writer</c> was created in this process, or it was handed to a writer process that is still running, or another thread is handing it over, or (a named channel) another process holds its writer role (nothing was sent). A single-writer ring written from two places breaks.</exception>
    public static unsafe void SendChannel<T>(this BootstrapConnection connection, IpcChannel<T> channel)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(channel);
        var reader = channel.BeginWriterHandover().Core;
        bool sent = false;
        try
        {
            SendAndWatchWriter(connection, channel.Core, SlotChannel, reader, sizeof(T));
            sent = true;
        }
        finally
        {
            channel.EndWriterHandover(sent); // the writer is watched now, or nothing was sent (the role taken for it goes back)
        }
    }

    /// <summary>Hands the message channel <paramref name="channel"/> to the peer process (see <see cref="SendChannel{T}"/>).</summary>
    /// <exception cref="TimeoutException">The peer did not make room in time.</exception>
    /// <exception cref="PeerGoneException">The peer's process has exited (nothing was sent).</exception>
    /// <exception cref="UintrIpcException">The peer closed the connection, or sendmsg failed.</exception>
    /// <exception cref="InvalidOperationException">The channel has one writer (no <see cref="IpcChannelOptions.MultipleWriters"/>) and its <c>Writer</c> was created in this process, or it was handed to a writer process that is still running, or another thread is handing it over, or (a named channel) another process holds its writer role (nothing was sent). A single-writer ring written from two places breaks.</exception>
    public static void SendChannel(this BootstrapConnection connection, IpcMessageChannel channel)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(channel);
        var reader = channel.BeginWriterHandover().Core;
        bool sent = false;
        try
        {
            SendAndWatchWriter(connection, channel.Core, MessageChannel, reader, channel.MaxMessageLength);
            sent = true;
        }
        finally
        {
            channel.EndWriterHandover(sent);
        }
    }

    /// <summary>Sends a channel (or a duplex reply), then has <paramref name="reader"/> watch the peer, its writer's process.</summary>
    private static void SendAndWatchWriter<TProbe>(BootstrapConnection connection, ChannelCore channel, ushort kind, ConsumerCore<TProbe> reader, int size, int responseSize = 0)
        where TProbe : struct, IChannelProbe
    {
        ArgumentNullException.ThrowIfNull(connection);
        ProcessHandle writer = OpenPeerProcess(connection);
        // The new writer counts from the handover on (uintripc.h 4b): a drained moment before it
        // attaches is no detach, whatever a predecessor's mark says; taken back if the send fails.
        bool counted = channel.CountHandedWriter(out uint before);
        try
        {
            Send(connection, channel, kind, reader.DoorbellFd, size, responseSize);
        }
        catch
        {
            if (counted)
            {
                channel.UncountHandedWriter(before);
            }

            writer.Dispose();
            throw;
        }

        reader.WatchProducer(writer);
    }

    /// <summary>
    /// The peer's process as the kernel pinned it at connect (SO_PEERPIDFD; before Linux 6.5 a
    /// pidfd_open of SO_PEERCRED's pid), as a pidfd. Senders open it before they send: a peer that
    /// has the channel may write, complete and exit at once, and be gone by the time the send returns.
    /// </summary>
    /// <exception cref="PeerGoneException">The peer's process has exited.</exception>
    private static ProcessHandle OpenPeerProcess(BootstrapConnection connection)
    {
        UintrIpcException? cause = null;
        try
        {
            ProcessHandle process = connection.OpenPeerProcess();
            if (!process.HasExited)
            {
                return process;
            }

            process.Dispose(); // pinned, and exited since: its pid is never looked up again
        }
        catch (UintrIpcException e) when (e.Errno == LibC.ESRCH)
        {
            cause = e;
        }

        string message = $"The process at the other end of {connection.Endpoint} ({connection.Peer}) has exited, so nothing can read or write the channel there. Connect to a running peer and hand over a new channel.";
        throw cause is null ? new PeerGoneException(message) : new PeerGoneException(message, cause);
    }

    /// <summary>
    /// Receives a channel sent with <see cref="SendChannel{T}"/>, with its
    /// <see cref="IpcChannel{T}.Writer"/> ready (the reader's doorbell is in the message). The
    /// writer watches the reader's process: a write waiting for room fails with
    /// <see cref="PeerGoneException"/> as soon as it exits.
    /// </summary>
    /// <param name="connection">The connection to the reader's process.</param>
    /// <param name="timeout">How long to wait for the message.</param>
    /// <param name="options">How the writer waits for room and reports metrics; null for the defaults. The channel's shape comes from the reader's side: the shape settings of <paramref name="options"/> are ignored.</param>
    /// <param name="cancellationToken">Cancels the wait for the message.</param>
    /// <exception cref="TimeoutException">No message arrived in time.</exception>
    /// <exception cref="PeerGoneException">The reader's process sent the channel and has exited since.</exception>
    /// <exception cref="UintrIpcException">The message does not describe a channel of <typeparamref name="T"/>.</exception>
    /// <exception cref="RegionFormatException">The region is not a valid channel of <typeparamref name="T"/>, or its creator recorded another element type of the same size (uintripc.h 2i).</exception>
    public static unsafe IpcChannel<T> ReceiveChannel<T>(this BootstrapConnection connection, TimeSpan timeout, IpcChannelOptions? options = null, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(connection);
        using BootstrapMessage message = connection.Receive(timeout, cancellationToken);
        var (doorbell, size) = Parse(connection, message, SlotChannel);
        if (size != sizeof(T))
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"the channel's elements are {size} bytes, sizeof({typeof(T).Name}) is {sizeof(T)}", TypeMismatchAdvice);
        }

        using SafeFdHandle regionFd = message.TakeFd(0);
        return Initialize(Attach<T>(regionFd, options), channel =>
        {
            TakeOverCount(message, channel.Core); // first: any failure below gives it back (Close)
            CheckDoorbell(connection, channel.Doorbell, doorbell);
            using SafeFdHandle? doorbellFd = DoorbellFdOf(connection, message, doorbell);
            channel.CreateWriter(doorbellFd).Core.WatchConsumer(OpenPeerProcess(connection)); // the writer keeps its own copy of the fd
        });
    }

    /// <summary>Receives a message channel sent with <see cref="SendChannel(BootstrapConnection, IpcMessageChannel)"/>, with its writer ready (see <see cref="ReceiveChannel{T}"/>).</summary>
    /// <exception cref="TimeoutException">No message arrived in time.</exception>
    /// <exception cref="PeerGoneException">The reader's process sent the channel and has exited since.</exception>
    /// <exception cref="UintrIpcException">The message does not describe a message channel.</exception>
    public static IpcMessageChannel ReceiveMessageChannel(this BootstrapConnection connection, TimeSpan timeout, IpcChannelOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using BootstrapMessage message = connection.Receive(timeout, cancellationToken);
        var (doorbell, maxMessageLength) = Parse(connection, message, MessageChannel);
        using SafeFdHandle regionFd = message.TakeFd(0);
        return Initialize(AttachMessages(regionFd, options), channel =>
        {
            TakeOverCount(message, channel.Core); // first: any failure below gives it back (Close)
            CheckDoorbell(connection, channel.Doorbell, doorbell);
            if (channel.MaxMessageLength != maxMessageLength)
            {
                throw new BootstrapProtocolException(connection.Endpoint, $"the message says {maxMessageLength}-byte messages, the region {channel.MaxMessageLength}");
            }

            using SafeFdHandle? doorbellFd = DoorbellFdOf(connection, message, doorbell);
            channel.CreateWriter(doorbellFd).Core.WatchConsumer(OpenPeerProcess(connection));
        });
    }

    /// <summary>A channel message of version 2 or later: its sender counted the writer made here in (uintripc.h 4b), which takes that count over.</summary>
    private static void TakeOverCount(BootstrapMessage message, ChannelCore channel)
    {
        if (BinaryPrimitives.ReadUInt16LittleEndian(message.Payload.Span[4..]) >= 2)
        {
            channel.TakeOverHandoverCount();
        }
    }

    /// <summary>
    /// The descriptor the writer needs: the one in the message (eventfd, uintr), or for the
    /// signal doorbell a pidfd of the connection's peer as the kernel pinned it (never a target
    /// taken from shared memory or from the peer's own word).
    /// </summary>
    private static SafeFdHandle? DoorbellFdOf(BootstrapConnection connection, BootstrapMessage message, DoorbellKind doorbell, int index = 1)
    {
        if (message.FdCount > index)
        {
            return doorbell == DoorbellKind.EventFd ? message.TakeEventFd(index, connection.Endpoint) : message.TakeFd(index);
        }

        if (doorbell != DoorbellKind.Signal)
        {
            return null;
        }

        return OpenPeerProcess(connection).FileHandle; // the pidfd alone; the caller disposes it
    }

    private static void Send(BootstrapConnection connection, ChannelCore channel, ushort kind, System.Runtime.InteropServices.SafeHandle? doorbellFd, int size, int responseSize = 0)
    {
        ArgumentNullException.ThrowIfNull(connection);
        bool duplex = kind is DuplexChannel or DuplexReply;
        Span<byte> payload = stackalloc byte[duplex ? DuplexPayloadLength : PayloadLength];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[6..], kind);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[8..], (uint)channel.Doorbell);
        BinaryPrimitives.WriteInt32LittleEndian(payload[12..], size);
        if (duplex)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload[16..], responseSize);
        }

        // The signal doorbell's pidfd is not sent: the receiver names the consumer's process
        // from the connection's peer (SO_PEERPIDFD, SO_PEERCRED), the kernel's word. A duplex reply
        // carries no region (the peer sent it).
        bool withDoorbell = doorbellFd is not null && ProducerCore.NeedsFd(channel.Doorbell);
        switch (kind == DuplexReply, withDoorbell)
        {
            case (false, false): connection.Send(payload, channel.Region.FileHandle); break;
            case (false, true): connection.Send(payload, channel.Region.FileHandle, doorbellFd!); break;
            case (true, false): connection.Send(payload); break;
            case (true, true): connection.Send(payload, doorbellFd!); break;
        }
    }

    private static (DoorbellKind Doorbell, int Size) Parse(BootstrapConnection connection, BootstrapMessage message, ushort expectedKind)
        => Parse(connection, message, expectedKind, out _);

    /// <summary>Checks a channel message of <paramref name="expectedKind"/>; duplex kinds also carry <paramref name="responseSize"/>.</summary>
    private static (DoorbellKind Doorbell, int Size) Parse(BootstrapConnection connection, BootstrapMessage message, ushort expectedKind, out int responseSize)
    {
        ReadOnlySpan<byte> p = message.Payload.Span;
        bool duplex = expectedKind is DuplexChannel or DuplexReply;
        if (p.Length < PayloadLength || BinaryPrimitives.ReadUInt32LittleEndian(p) != Magic)
        {
            throw new BootstrapProtocolException(connection.Endpoint, "not a channel message (IpcChannel.SendChannel)");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(p[4..]);
        ushort kind = BinaryPrimitives.ReadUInt16LittleEndian(p[6..]);
        var doorbell = (DoorbellKind)BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        int size = BinaryPrimitives.ReadInt32LittleEndian(p[12..]);
        if (version is < OldestVersion or > Version)
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"channel message version {version}, expected {OldestVersion} to {Version}");
        }

        if (kind != expectedKind)
        {
            throw kind switch
            {
                SlotChannel => KindMismatch(connection, "the peer sent a channel of elements (IpcChannel<T>); receive it with ReceiveChannel<T>"),
                MessageChannel => KindMismatch(connection, "the peer sent a message channel; receive it with ReceiveMessageChannel"),
                DuplexChannel => KindMismatch(connection, "the peer sent a duplex channel; receive it with ReceiveDuplexChannel<TRequest, TResponse>"),
                DuplexReply => new BootstrapProtocolException(connection.Endpoint, "the peer sent a duplex reply where a channel was expected"),
                _ => new BootstrapProtocolException(connection.Endpoint, $"unknown channel kind {kind}"),
            };
        }

        if (p.Length != (duplex ? DuplexPayloadLength : PayloadLength))
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"a channel message of {p.Length} bytes, expected {(duplex ? DuplexPayloadLength : PayloadLength)}");
        }

        responseSize = duplex ? BinaryPrimitives.ReadInt32LittleEndian(p[16..]) : 0;

        if (!Enum.IsDefined(doorbell))
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"unknown doorbell kind {(uint)doorbell}");
        }

        // A duplex reply carries no region, only the doorbell.
        int expectedFds = (ProducerCore.NeedsFd(doorbell) ? 1 : 0) + (expectedKind == DuplexReply ? 0 : 1);
        if (message.FdCount != expectedFds)
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"{message.FdCount} descriptors for a {doorbell} channel, expected {expectedFds}");
        }

        return (doorbell, size);
    }

    private static void CheckDoorbell(BootstrapConnection connection, DoorbellKind inRegion, DoorbellKind inMessage)
    {
        if (inRegion != inMessage)
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"the message says doorbell {inMessage}, the region {inRegion}");
        }
    }
}
