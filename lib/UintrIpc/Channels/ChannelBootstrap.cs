using System.Buffers.Binary;
using UintrIpc.Bootstrap;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// One bootstrap message carries a whole channel to the producer's process: payload [magic
// "UICH" u32 | version u16 | channel kind u16 (1 slots, 2 messages) | doorbell kind u32 |
// element size (slots) or max message length (messages) u32], descriptors [region memfd, then
// the consumer's doorbell fd for eventfd and uintr]. For the signal doorbell nothing more is
// sent: the producer signals the process SO_PEERCRED names (uintripc.h section 3). The receiver
// checks every field against what it expects and against the region, closes every descriptor
// it does not keep, and refuses anything else with a BootstrapProtocolException.

/// <summary>
/// Hands a channel to another process over a <see cref="BootstrapConnection"/>: the process
/// that hosts the consumer sends the region and its doorbell descriptor in one message; the
/// other process receives a ready producer.
/// </summary>
/// <example>
/// <code>
/// // consumer process (server)
/// using var connection = server.Accept(TimeSpan.FromSeconds(10));
/// connection.SendChannel(consumer);
/// // producer process (client)
/// using var connection = BootstrapClient.Connect(endpoint, TimeSpan.FromSeconds(10));
/// using var producer = connection.ReceiveProducer&lt;long&gt;(TimeSpan.FromSeconds(10));
/// </code>
/// </example>
public static class ChannelBootstrap
{
    private const uint Magic = 0x48434955; // "UICH"
    private const ushort Version = 1;
    private const ushort SlotChannel = 1;
    private const ushort MessageChannel = 2;
    private const int PayloadLength = 16;

    /// <summary>Sends the channel of <paramref name="consumer"/> (region and doorbell descriptor) to the peer.</summary>
    /// <exception cref="TimeoutException">The peer did not make room in time.</exception>
    /// <exception cref="UintrIpcException">The peer closed the connection, or sendmsg failed.</exception>
    public static unsafe void SendChannel<T>(this BootstrapConnection connection, IpcConsumer<T> consumer)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(consumer);
        Send(connection, consumer.Channel, SlotChannel, consumer.DoorbellFd, sizeof(T));
        consumer.WatchProducer(ProcessHandle.Open(connection.Peer.Pid)); // SO_PEERCRED: the kernel's word
    }

    /// <summary>Sends the message channel of <paramref name="consumer"/> (region and doorbell descriptor) to the peer.</summary>
    /// <exception cref="TimeoutException">The peer did not make room in time.</exception>
    /// <exception cref="UintrIpcException">The peer closed the connection, or sendmsg failed.</exception>
    public static void SendChannel(this BootstrapConnection connection, IpcMessageConsumer consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        Send(connection, consumer.Channel, MessageChannel, consumer.DoorbellFd, consumer.MaxMessageLength);
        consumer.WatchProducer(ProcessHandle.Open(connection.Peer.Pid)); // SO_PEERCRED: the kernel's word
    }

    /// <summary>Receives a channel sent with <see cref="SendChannel{T}"/> and creates a producer for it.</summary>
    /// <param name="connection">The connection to the consumer's process.</param>
    /// <param name="timeout">How long to wait for the message.</param>
    /// <param name="wait">How the producer waits for room; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the wait for the message.</param>
    /// <exception cref="TimeoutException">No message arrived in time.</exception>
    /// <exception cref="BootstrapProtocolException">The message does not describe a slot channel of <typeparamref name="T"/>.</exception>
    public static unsafe IpcProducer<T> ReceiveProducer<T>(this BootstrapConnection connection, TimeSpan timeout, ChannelWaitOptions? wait = null, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(connection);
        using BootstrapMessage message = connection.Receive(timeout, cancellationToken);
        var (doorbell, size) = Parse(connection, message, SlotChannel);
        if (size != sizeof(T))
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"the channel's elements are {size} bytes, sizeof({typeof(T).Name}) is {sizeof(T)}");
        }

        using SafeFdHandle regionFd = message.TakeFd(0);
        using var channel = IpcChannel<T>.Attach(regionFd, wait);
        CheckDoorbell(connection, channel.Doorbell, doorbell);
        using SafeFdHandle? doorbellFd = DoorbellFdOf(connection, message, doorbell);
        IpcProducer<T> producer = channel.CreateProducer(doorbellFd); // keeps its own references: region and a duplicate of the doorbell fd
        producer.WatchConsumer(ProcessHandle.Open(connection.Peer.Pid));
        return producer;
    }

    /// <summary>Receives a message channel sent with <see cref="SendChannel(BootstrapConnection, IpcMessageConsumer)"/> and creates a producer for it.</summary>
    /// <exception cref="TimeoutException">No message arrived in time.</exception>
    /// <exception cref="BootstrapProtocolException">The message does not describe a message channel.</exception>
    public static IpcMessageProducer ReceiveMessageProducer(this BootstrapConnection connection, TimeSpan timeout, ChannelWaitOptions? wait = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using BootstrapMessage message = connection.Receive(timeout, cancellationToken);
        var (doorbell, maxMessageLength) = Parse(connection, message, MessageChannel);
        using SafeFdHandle regionFd = message.TakeFd(0);
        using var channel = IpcMessageChannel.Attach(regionFd, wait);
        CheckDoorbell(connection, channel.Doorbell, doorbell);
        if (channel.MaxMessageLength != maxMessageLength)
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"the message says {maxMessageLength}-byte messages, the region {channel.MaxMessageLength}");
        }

        using SafeFdHandle? doorbellFd = DoorbellFdOf(connection, message, doorbell);
        IpcMessageProducer producer = channel.CreateProducer(doorbellFd);
        producer.WatchConsumer(ProcessHandle.Open(connection.Peer.Pid));
        return producer;
    }

    /// <summary>
    /// The descriptor the producer needs: the one in the message (eventfd, uintr), or for the
    /// signal doorbell a pidfd of the peer as SO_PEERCRED names it (never a target taken from
    /// shared memory or from the peer's own word).
    /// </summary>
    private static SafeFdHandle? DoorbellFdOf(BootstrapConnection connection, BootstrapMessage message, DoorbellKind doorbell)
    {
        if (message.FdCount > 1)
        {
            return message.TakeFd(1);
        }

        if (doorbell != DoorbellKind.Signal)
        {
            return null;
        }

        return ProcessHandle.Open(connection.Peer.Pid).FileHandle; // the pidfd alone; the caller disposes it
    }

    private static void Send(BootstrapConnection connection, ChannelCore channel, ushort kind, System.Runtime.InteropServices.SafeHandle? doorbellFd, int size)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Span<byte> payload = stackalloc byte[PayloadLength];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[6..], kind);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[8..], (uint)channel.Doorbell);
        BinaryPrimitives.WriteInt32LittleEndian(payload[12..], size);
        if (doorbellFd is null || !ChannelSenders.NeedsFd(channel.Doorbell))
        {
            // The signal doorbell's pidfd is not sent: the receiver names the consumer's process
            // from the connection's peer credentials (SO_PEERCRED), the kernel's word.
            connection.Send(payload, channel.Region.FileHandle);
        }
        else
        {
            connection.Send(payload, channel.Region.FileHandle, doorbellFd);
        }
    }

    private static (DoorbellKind Doorbell, int Size) Parse(BootstrapConnection connection, BootstrapMessage message, ushort expectedKind)
    {
        ReadOnlySpan<byte> p = message.Payload.Span;
        if (p.Length != PayloadLength || BinaryPrimitives.ReadUInt32LittleEndian(p) != Magic)
        {
            throw new BootstrapProtocolException(connection.Endpoint, "not a channel message (ChannelBootstrap.SendChannel)");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(p[4..]);
        ushort kind = BinaryPrimitives.ReadUInt16LittleEndian(p[6..]);
        var doorbell = (DoorbellKind)BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        int size = BinaryPrimitives.ReadInt32LittleEndian(p[12..]);
        if (version != Version)
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"channel message version {version}, expected {Version}");
        }

        if (kind != expectedKind)
        {
            throw new BootstrapProtocolException(connection.Endpoint, kind == SlotChannel
                ? "the peer sent a slot channel (IpcChannel<T>); receive it with ReceiveProducer<T>"
                : kind == MessageChannel ? "the peer sent a message channel; receive it with ReceiveMessageProducer" : $"unknown channel kind {kind}");
        }

        if (!Enum.IsDefined(doorbell))
        {
            throw new BootstrapProtocolException(connection.Endpoint, $"unknown doorbell kind {(uint)doorbell}");
        }

        int expectedFds = ChannelSenders.NeedsFd(doorbell) ? 2 : 1;
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
