using System.Buffers;
using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Bootstrap;

// Framing: uintripc_rpc.h section 6 (one SEQPACKET datagram per message, its descriptors in
// one SCM_RIGHTS message). A datagram is validated in full (BootstrapFrame.Validate); any
// failure closes every descriptor that arrived, and MSG_CMSG_CLOEXEC keeps a concurrent
// fork/exec from inheriting them. One Send and one Receive may run at once; Dispose, from any
// thread, wakes blocked calls with ObjectDisposedException.

/// <summary>
/// One end of an established bootstrap connection: hands channels (<c>IpcChannel.SendChannel</c>,
/// <c>ReceiveChannel</c>) and RPC sessions to the peer process, as messages of a small payload and up to 16 file
/// descriptors.
/// </summary>
/// <remarks>
/// Made by <see cref="BootstrapServer.Accept"/> (server side) or <see cref="Connect"/>
/// (client side), after the server's policy accepted the client and the client's policy accepted
/// the server.
/// </remarks>
public sealed class BootstrapConnection : IDisposable
{
    /// <summary>How long a send waits for room in the peer's queue, by default.</summary>
    public static readonly TimeSpan DefaultSendTimeout = TimeSpan.FromSeconds(5);

    private readonly SafeFdHandle _socket;
    private readonly FdWaiter _waiter = new();
    private TimeSpan _sendTimeout = DefaultSendTimeout;
    private int _disposed;

    private readonly PeerProcessPin _peerProcess;

    private BootstrapConnection(SafeFdHandle socket, PeerCredentials peer, PeerProcessPin peerProcess, BootstrapEndpoint endpoint, bool isServerSide)
    {
        _socket = socket;
        Peer = peer;
        _peerProcess = peerProcess;
        Endpoint = endpoint.ToString();
        IsServerSide = isServerSide;
    }

    /// <summary>
    /// A connection on the connected <paramref name="socket"/> (owned from here; closed if this
    /// throws): reads the peer's credentials and pins its process, before the handshake.
    /// </summary>
    /// <exception cref="UintrIpcException">getsockopt failed, or the kernel's two words on the peer's pid disagree (<see cref="PeerProcessPin.Pin"/>).</exception>
    internal static BootstrapConnection Open(SafeFdHandle socket, BootstrapEndpoint endpoint, bool isServerSide)
    {
        PeerProcessPin? pin = null;
        try
        {
            PeerCredentials peer = UnixSocket.GetPeerCredentials(socket);
            pin = PeerProcessPin.Pin(socket, peer);
            return new BootstrapConnection(socket, peer, pin, endpoint, isServerSide); // its FdWaiter's eventfd can fail (EMFILE)
        }
        catch
        {
            pin?.Dispose();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects to <paramref name="endpoint"/> and completes the handshake within
    /// <paramref name="timeout"/>. While no server listens there yet (ENOENT, ECONNREFUSED) or its
    /// queue is full (EAGAIN), Connect retries until the timeout.
    /// </summary>
    /// <param name="endpoint">Where the server listens: <c>@name</c> for a name in the abstract namespace (no file), anything else a socket path (made absolute against the current directory).</param>
    /// <param name="timeout">Bound on the whole connect and handshake (or <see cref="Timeout.InfiniteTimeSpan"/>).</param>
    /// <param name="serverPolicy">Which servers to trust; <see cref="PeerPolicy.SameUserOnly"/> by default
    /// (this matters for abstract names, which anyone can bind).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">The server did not answer in time.</exception>
    /// <exception cref="UintrIpcException">EACCES: the server refused this process, or <paramref name="serverPolicy"/> refused the server (the message says which and why). Otherwise no server could be reached before the timeout (the errno of the last attempt).</exception>
    /// <exception cref="ArgumentException">The name or path is empty, contains NUL or is too long for a Unix socket address (107 bytes).</exception>
    public static BootstrapConnection Connect(string endpoint, TimeSpan timeout, PeerPolicy? serverPolicy = null, CancellationToken cancellationToken = default)
        => BootstrapClient.Connect(BootstrapEndpoint.Parse(endpoint), timeout, serverPolicy, cancellationToken);

    /// <summary>Connects on a dedicated thread; see <see cref="Connect"/>.</summary>
    public static Task<BootstrapConnection> ConnectAsync(string endpoint, TimeSpan timeout, PeerPolicy? serverPolicy = null, CancellationToken cancellationToken = default)
        => BootstrapClient.ConnectAsync(BootstrapEndpoint.Parse(endpoint), timeout, serverPolicy, cancellationToken);

    /// <summary>The process on the other end, as the kernel reports it (SO_PEERCRED).</summary>
    public PeerCredentials Peer { get; }

    /// <summary>Where the connection was made: <c>@name</c>, or the absolute socket path.</summary>
    public string Endpoint { get; }

    /// <summary>Whether this end was accepted by a server (true) or connected as a client (false).</summary>
    public bool IsServerSide { get; }

    /// <summary>How long a send waits for room in the peer's queue (<see cref="Timeout.InfiniteTimeSpan"/> for no limit).</summary>
    public TimeSpan SendTimeout
    {
        get => _sendTimeout;
        set
        {
            _ = FdWaiter.DeadlineFrom(value, nameof(value));
            _sendTimeout = value;
        }
    }

    /// <summary>The connected socket (for tests that forge messages).</summary>
    internal SafeFdHandle Socket => _socket;

    /// <summary>Whether the kernel pinned the peer's process (SO_PEERPIDFD, Linux 6.5+), or its pid is opened at each use.</summary>
    internal bool IsPeerProcessPinned => _peerProcess.IsPinned;

    /// <summary>
    /// A pidfd of the peer's process for the caller to keep (and dispose): the one the kernel
    /// pinned when the peer connected or listened, so possibly of a process that has exited since,
    /// never of another that reused its pid (see <see cref="PeerProcessPin"/>).
    /// </summary>
    /// <exception cref="UintrIpcException">ESRCH: the peer exited before it could be pinned (or, before Linux 6.5, no process has its pid).</exception>
    /// <exception cref="ObjectDisposedException">The connection was closed (its pin is gone; the fallback must not look the pid up either).</exception>
    internal ProcessHandle OpenPeerProcess()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _peerProcess.Open();
    }

    /// <summary>
    /// Sends one message: <paramref name="payload"/> and <paramref name="fds"/> (duplicated into the
    /// peer by the kernel; the caller keeps its own). Waits up to <see cref="SendTimeout"/> for room.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">More than <see cref="BootstrapMessage.MaxPayloadLength"/> bytes or <see cref="BootstrapMessage.MaxFds"/> descriptors.</exception>
    /// <exception cref="TimeoutException">The peer did not make room in time.</exception>
    /// <exception cref="UintrIpcException">The peer closed the connection (EPIPE) or sendmsg failed.</exception>
    internal void Send(ReadOnlySpan<byte> payload, params ReadOnlySpan<SafeHandle> fds)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, BootstrapMessage.MaxPayloadLength, nameof(payload));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fds.Length, BootstrapMessage.MaxFds, nameof(fds));
        SendFrame(BootstrapFrameType.Data, payload, fds, _sendTimeout);
    }

    /// <summary>
    /// Sends a shared region's memfd so that the peer maps the same memory with
    /// <see cref="ReceiveRegion"/>. Waits up to <see cref="SendTimeout"/> for room.
    /// </summary>
    /// <exception cref="TimeoutException">The peer did not make room in time.</exception>
    /// <exception cref="UintrIpcException">The peer closed the connection (EPIPE) or sendmsg failed.</exception>
    internal void SendRegion(SharedRegion region) => SendRegion(region, default);

    /// <summary>Sends a region's memfd with <paramref name="payload"/> (tests that read both).</summary>
    internal void SendRegion(SharedRegion region, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(region);
        Send(payload, region.FileHandle);
    }

    /// <summary>
    /// Receives a region sent with <see cref="SendRegion(SharedRegion)"/>, waiting up to
    /// <paramref name="timeout"/> for it, and attaches it (validating its header as
    /// <see cref="SharedRegion.Attach(SafeHandle, TimeSpan?)"/> does).
    /// </summary>
    /// <returns>The attached region; the caller disposes it.</returns>
    /// <exception cref="TimeoutException">No message arrived in time.</exception>
    /// <exception cref="UintrIpcException">The message is not one region's descriptor, the peer closed the connection, or recvmsg failed.</exception>
    /// <exception cref="RegionFormatException">The descriptor is not a valid region.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    internal SharedRegion ReceiveRegion(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using BootstrapMessage message = Receive(timeout, cancellationToken);
        if (message.FdCount != 1)
        {
            throw new BootstrapProtocolException(Endpoint, $"{message.FdCount} descriptors where one region was expected");
        }

        return message.AttachRegion();
    }

    /// <summary>Receives one message, waiting up to <paramref name="timeout"/> (or <see cref="Timeout.InfiniteTimeSpan"/>).</summary>
    /// <returns>The message; the caller disposes it (which closes descriptors it did not take).</returns>
    /// <exception cref="TimeoutException">No message arrived in time.</exception>
    /// <exception cref="BootstrapProtocolException">The message was malformed, too large or carried too many descriptors (all of them are closed).</exception>
    /// <exception cref="UintrIpcException">The peer closed the connection, or recvmsg failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    internal BootstrapMessage Receive(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var (type, message) = ReceiveFrame(timeout, cancellationToken);
        if (type != BootstrapFrameType.Data)
        {
            message.Dispose();
            throw new BootstrapProtocolException(Endpoint, $"unexpected {type} message after the handshake");
        }

        return message;
    }

    /// <summary>Closes the connection; blocked calls on other threads throw ObjectDisposedException. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _waiter.Close();
        _socket.Dispose();
        _waiter.Dispose();
        _peerProcess.Dispose();
    }

    /// <summary>
    /// Why the peer closed the connection, as far as this side can tell: its process exited, or it
    /// lives on and gave up on this side. The second is what a loaded machine produces (a server's
    /// HelloTimeout or a SendChannel's timeout ran out while this process was not scheduled), and
    /// "did it exit?" sent the reader after a crash that never happened (design-notes user39).
    /// Waits up to <see cref="ClosedPeerExitGrace"/> for the exit: a killed peer's sockets close
    /// before its pidfd reports it.
    /// </summary>
    private string PeerClosedReason()
    {
        bool exited;
        try
        {
            using ProcessHandle process = _peerProcess.Open();
            exited = process.HasExitedWithin(ClosedPeerExitGrace);
        }
        catch (UintrIpcException)
        {
            exited = true; // ESRCH: gone before it could be pinned, or (before Linux 6.5) no process has its pid
        }
        catch (ObjectDisposedException)
        {
            return "Did it exit, or stop waiting for this side?";
        }

        return exited
            ? "Its process has exited; check its output, and connect to a running one."
            : "Its process is still running: it stopped waiting for this side (a timeout of its own ran out, such as an RPC server's "
              + "RpcServerOptions.HelloTimeout or the sender's SendChannel timeout; on a loaded machine this side may have been slow), "
              + "refused what it received, or is shutting down. Check its log, and connect again; raise that timeout if it keeps happening.";
    }

    /// <summary>How long <see cref="PeerClosedReason"/> waits for a peer that closed the connection to be reported exited.</summary>
    internal static readonly TimeSpan ClosedPeerExitGrace = TimeSpan.FromMilliseconds(200);

    /// <summary>Sends one frame of any type (the server's handshake uses it too).</summary>
    internal void SendFrame(BootstrapFrameType type, ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> fds, TimeSpan timeout)
    {
        long deadline = FdWaiter.DeadlineFrom(timeout, nameof(timeout));
        int length = BootstrapFrame.HeaderSize + payload.Length;
        byte[] datagram = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            BootstrapFrame.WriteHeader(datagram, type, payload.Length, fds.Length);
            payload.CopyTo(datagram.AsSpan(BootstrapFrame.HeaderSize));
            while (true)
            {
                int errno = UnixSocket.Send(_socket, datagram.AsSpan(0, length), fds);
                if (errno == 0)
                {
                    return;
                }

                if (errno != LibC.EAGAIN)
                {
                    throw new UintrIpcException($"sendmsg to {Endpoint}", errno, errno == LibC.EPIPE || errno == LibC.ECONNRESET
                        ? $"The peer ({Peer}) closed the bootstrap connection. {PeerClosedReason()}"
                        : null);
                }

                if (!_waiter.Wait(_socket, Sys.POLLOUT, deadline, this, CancellationToken.None))
                {
                    throw new TimeoutException($"The peer ({Peer}) on {Endpoint} did not read its bootstrap messages within {timeout}; its queue is full.");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(datagram);
        }
    }

    /// <summary>Receives and validates one frame of any type; on any failure every received descriptor is closed.</summary>
    internal (BootstrapFrameType Type, BootstrapMessage Message) ReceiveFrame(TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = FdWaiter.DeadlineFrom(timeout, nameof(timeout));
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BootstrapFrame.MaxDatagram);
        var fds = new List<SafeFdHandle>();
        try
        {
            while (true)
            {
                // Exactly MaxDatagram bytes: anything longer arrives with MSG_TRUNC.
                nint received = UnixSocket.Receive(_socket, buffer.AsSpan(0, BootstrapFrame.MaxDatagram), fds, out int flags);
                if (received == -LibC.EAGAIN)
                {
                    if (!_waiter.Wait(_socket, Sys.POLLIN, deadline, this, cancellationToken))
                    {
                        throw new TimeoutException($"No bootstrap message from the peer ({Peer}) on {Endpoint} within {timeout}.");
                    }

                    continue;
                }

                if (received < 0)
                {
                    throw new UintrIpcException($"recvmsg from {Endpoint}", (int)-received);
                }

                // 0 bytes is the peer's end, or an empty datagram (no frame: Validate refuses it below).
                if (received == 0 && fds.Count == 0 && UnixSocket.PeerHasShutDown(_socket))
                {
                    throw new UintrIpcException($"The peer ({Peer}) closed the bootstrap connection on {Endpoint}. {PeerClosedReason()}");
                }

                if ((flags & Sys.MSG_CTRUNC) != 0)
                {
                    throw new BootstrapProtocolException(Endpoint,
                        $"more than {BootstrapMessage.MaxFds} descriptors arrived (the kernel discarded the excess; the {fds.Count} received were closed)");
                }

                if ((flags & Sys.MSG_TRUNC) != 0)
                {
                    throw new BootstrapProtocolException(Endpoint,
                        $"the message is longer than {BootstrapFrame.MaxDatagram} bytes (payload limit {BootstrapMessage.MaxPayloadLength}); it was discarded and its {fds.Count} descriptors closed");
                }

                var datagram = buffer.AsSpan(0, (int)received);
                var type = BootstrapFrame.Validate(datagram, fds.Count, out string? problem);
                if (problem is not null)
                {
                    throw new BootstrapProtocolException(Endpoint, problem);
                }

                var message = new BootstrapMessage(datagram[BootstrapFrame.HeaderSize..].ToArray(), [.. fds]);
                fds.Clear(); // owned by the message now
                return (type, message);
            }
        }
        finally
        {
            foreach (var fd in fds)
            {
                fd.Dispose();
            }

            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
