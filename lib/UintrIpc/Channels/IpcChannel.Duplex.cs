using UintrIpc.Bootstrap;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// Duplex channels (uintripc.h 2h, 5): creation, and the bootstrap pair that hands one to the
// requesting process. Two messages, because each reader's doorbell must reach its writer in the
// other process: the answering side sends [payload kind 3: doorbell, request size, response size]
// with the region and its request reader's doorbell fd; the requesting side checks everything,
// creates its request writer and response reader, and replies [payload kind 4: the same fields]
// with its response reader's doorbell fd. Each side checks every field and closes every
// descriptor it does not keep; each watches the other through the pidfd the kernel pinned at connect.

public static partial class IpcChannel
{
    /// <summary>
    /// Creates a duplex channel in an anonymous memfd region: requests of <typeparamref name="TRequest"/>
    /// one way, responses of <typeparamref name="TResponse"/> the other, slot k of both in one cache line
    /// where they fit (see <see cref="IpcDuplexChannel{TRequest, TResponse}"/>).
    /// </summary>
    /// <param name="options">Capacity (slots per ring), doorbell, checksums and waits; null for the defaults. <see cref="IpcChannelOptions.Name"/> and <see cref="IpcChannelOptions.MultipleWriters"/> must stay unset.</param>
    /// <exception cref="ArgumentException"><see cref="IpcChannelOptions.Name"/> or <see cref="IpcChannelOptions.MultipleWriters"/> is set.</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="IpcChannelOptions.Doorbell"/> names a doorbell this machine cannot ring (see <see cref="IsDoorbellAvailable"/>); the message says why. Nothing is created.</exception>
    /// <exception cref="UintrIpcException">The region could not be created (errno attached).</exception>
    public static unsafe IpcDuplexChannel<TRequest, TResponse> CreateDuplex<TRequest, TResponse>(IpcChannelOptions? options = null)
        where TRequest : unmanaged
        where TResponse : unmanaged
        => new(ChannelCore.CreateDuplex(sizeof(TRequest), sizeof(TResponse), options ?? new IpcChannelOptions(), ElementFingerprint<TRequest>.Value, ElementFingerprint<TResponse>.Value));

    /// <summary>
    /// Hands <paramref name="duplex"/> to the peer process, which receives it with
    /// <see cref="ReceiveDuplexChannel{TRequest, TResponse}"/> and sends the requests: this side
    /// reads the requests and writes the responses. Creates <c>Requests.Reader</c> first if needed
    /// (on this thread), sends the region with its doorbell, then waits for the peer's reply, which
    /// carries the doorbell of the peer's response reader, and creates <c>Responses.Writer</c> with it.
    /// Both ends then watch the peer's process.
    /// </summary>
    /// <param name="connection">The connection to the requesting process.</param>
    /// <param name="duplex">The duplex channel this process created.</param>
    /// <param name="timeout">How long to wait for the peer's reply.</param>
    /// <param name="cancellationToken">Cancels the wait for the reply.</param>
    /// <remarks>
    /// A duplex is handed over once, to one peer. When this method throws after it started
    /// (the reply did not come in time, the wait was cancelled, the reply was malformed or the
    /// peer went away), the region may be in the peer's hands but this side never got the
    /// doorbell of the peer's response reader: the duplex is left completed in both directions
    /// (a peer that attached sees its writes refused and its reads end; one already asleep is woken
    /// with the futex doorbell, otherwise it ends after its park slice), <c>Responses.Writer</c>
    /// throws an <see cref="InvalidOperationException"/> whose inner exception is the cause, and
    /// a second <c>SendChannel</c> throws too. Dispose it and create a new duplex to try again.
    /// </remarks>
    /// <example>
    /// The answering process (the server, listening on <c>server</c>):
    /// <!-- snippet-context answering-process
    /// using var server = BootstrapServer.Listen("@my-service");
    /// -->
    /// <!-- snippet: fragment answering-process -->
    /// <code>
    /// using var duplex = IpcChannel.CreateDuplex&lt;long, long&gt;();
    /// using var connection = server.Accept(TimeSpan.FromSeconds(10));
    /// connection.SendChannel(duplex, TimeSpan.FromSeconds(10));
    /// long request = duplex.Requests.Reader.Read(TimeSpan.FromSeconds(1));
    /// duplex.Responses.Writer.TryWrite(request + 1, TimeSpan.FromSeconds(1));
    /// </code>
    /// The requesting process (the client):
    /// <!-- snippet-context requesting-process
    /// string endpoint = "@my-service";
    /// -->
    /// <!-- snippet: fragment requesting-process -->
    /// <code>
    /// using var connection = BootstrapConnection.Connect(endpoint, TimeSpan.FromSeconds(10));
    /// using var duplex = connection.ReceiveDuplexChannel&lt;long, long&gt;(TimeSpan.FromSeconds(10));
    /// duplex.Requests.Writer.TryWrite(41, TimeSpan.FromSeconds(1));
    /// long response = duplex.Responses.Reader.Read(TimeSpan.FromSeconds(1)); // 42
    /// </code>
    /// </example>
    /// <exception cref="TimeoutException">No reply arrived in time, or the peer did not make room for the message.</exception>
    /// <exception cref="PeerGoneException">The peer's process has exited.</exception>
    /// <exception cref="BootstrapProtocolException">The reply is not the reply to this duplex channel.</exception>
    /// <exception cref="UintrIpcException">The peer closed the connection, or sendmsg failed.</exception>
    /// <exception cref="InvalidOperationException">The duplex was handed over before (successfully or not), or its request or response writer exists already (nothing is sent then).</exception>
    public static unsafe void SendChannel<TRequest, TResponse>(this BootstrapConnection connection, IpcDuplexChannel<TRequest, TResponse> duplex, TimeSpan timeout,
        CancellationToken cancellationToken = default)
        where TRequest : unmanaged
        where TResponse : unmanaged
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(duplex);
        var reader = duplex.Requests.Reader.Core;
        duplex.BeginHandover();
        ProcessHandle? responseReader = null;
        try
        {
            // The request ring's one writer goes to the peer: no Requests.Writer here from now on (ChannelEndpoints).
            duplex.Requests.BeginWriterHandover();
            // The response reader's watch is opened before the send too (OpenPeerProcess says why).
            responseReader = OpenPeerProcess(connection);
            SendAndWatchWriter(connection, duplex.Requests.Core, DuplexChannel, reader, sizeof(TRequest), sizeof(TResponse));

            using BootstrapMessage reply = connection.Receive(timeout, cancellationToken);
            var (doorbell, requestSize) = Parse(connection, reply, DuplexReply, out int responseSize);
            CheckDuplexSizes(connection, requestSize, responseSize, sizeof(TRequest), sizeof(TResponse));
            CheckDoorbell(connection, duplex.Doorbell, doorbell);
            using SafeFdHandle? doorbellFd = DoorbellFdOf(connection, reply, doorbell, index: 0);
            // The writer keeps its own copy of the fd.
            duplex.Responses.CreateWriter(doorbellFd).Core.WatchConsumer(responseReader);
            responseReader = null;
            duplex.Requests.EndWriterHandover(sent: true); // the peer's request writer is watched
        }
        catch (Exception e)
        {
            // The request ring's reservation stays: the peer may hold it, so no Requests.Writer here.
            responseReader?.Dispose();
            // The peer may hold the region already: the duplex cannot go to another peer, and without
            // the reply it has no doorbell to ring the peer's response reader with (see the remarks).
            duplex.FailHandover(e);
            reader.WakeAfterCompletion(); // the completion's wake check (section 5): a read parked on another thread ends now
            duplex.Responses.Core.WakeReaderWithoutItsDoorbell(); // and the peer's response reader, where it can be rung
            throw;
        }
    }

    /// <summary>
    /// Receives a duplex channel sent with <see cref="SendChannel{TRequest, TResponse}(BootstrapConnection, IpcDuplexChannel{TRequest, TResponse}, TimeSpan, CancellationToken)"/>:
    /// this side writes the requests and reads the responses. Creates <c>Requests.Writer</c> (with the
    /// peer's doorbell) and <c>Responses.Reader</c> (on this thread), and replies with the reader's doorbell.
    /// </summary>
    /// <param name="connection">The connection to the answering process.</param>
    /// <param name="timeout">How long to wait for the message.</param>
    /// <param name="options">How this side's reader and writer wait and report metrics; null for the defaults. The shape comes from the creator: shape settings are ignored.</param>
    /// <param name="cancellationToken">Cancels the wait for the message.</param>
    /// <exception cref="TimeoutException">No message arrived in time.</exception>
    /// <exception cref="PeerGoneException">The answering process sent the duplex and has exited since.</exception>
    /// <exception cref="UintrIpcException">The message does not describe a duplex channel of these types (<see cref="BootstrapProtocolException"/>), or the connection failed.</exception>
    /// <exception cref="RegionFormatException">The region is not a valid duplex channel of these types, or its creator recorded another request or response type of the same size (uintripc.h 2i).</exception>
    public static unsafe IpcDuplexChannel<TRequest, TResponse> ReceiveDuplexChannel<TRequest, TResponse>(this BootstrapConnection connection, TimeSpan timeout,
        IpcChannelOptions? options = null, CancellationToken cancellationToken = default)
        where TRequest : unmanaged
        where TResponse : unmanaged
    {
        ArgumentNullException.ThrowIfNull(connection);
        using BootstrapMessage message = connection.Receive(timeout, cancellationToken);
        var (doorbell, requestSize) = Parse(connection, message, DuplexChannel, out int responseSize);
        CheckDuplexSizes(connection, requestSize, responseSize, sizeof(TRequest), sizeof(TResponse));
        using SafeFdHandle regionFd = message.TakeFd(0);
        var duplex = new IpcDuplexChannel<TRequest, TResponse>(ChannelCore.AttachDuplex(SharedRegion.Attach(regionFd), options?.Wait));
        return Initialize(duplex, d =>
        {
            CheckDoorbell(connection, d.Doorbell, doorbell);
            using (SafeFdHandle? doorbellFd = DoorbellFdOf(connection, message, doorbell))
            {
                d.Requests.CreateWriter(doorbellFd).Core.WatchConsumer(OpenPeerProcess(connection));
            }

            SendAndWatchWriter(connection, d.Responses.Core, DuplexReply, d.Responses.Reader.Core, requestSize, responseSize);
        });
    }

    private static void CheckDuplexSizes(BootstrapConnection connection, int requestSize, int responseSize, int expectedRequest, int expectedResponse)
    {
        if (requestSize != expectedRequest || responseSize != expectedResponse)
        {
            throw new BootstrapProtocolException(connection.Endpoint,
                $"the duplex channel carries {requestSize}-byte requests and {responseSize}-byte responses, this side expects {expectedRequest} and {expectedResponse}",
                TypeMismatchAdvice);
        }
    }
}
