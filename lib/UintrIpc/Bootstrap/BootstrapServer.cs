using System.Text;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Bootstrap;

// Handshake: uintripc_rpc.h section 6. SO_PEERCRED is recorded by the kernel at connect and
// cannot be forged. A refused peer (or one that hung up before ACCEPT) is closed and Accept goes
// on waiting, so a hostile client cannot make the accept loop fail. Listen removes a socket file
// left by a dead server; Dispose unlinks the path only if it still names our socket file (same
// device and inode), never a successor's.

/// <summary>
/// Listens on a Unix socket (<c>@name</c> or a path) and accepts peers that its
/// <see cref="PeerPolicy"/> allows. Dispose stops listening and removes the socket file.
/// </summary>
/// <example>
/// <code>
/// using var server = BootstrapServer.Listen("@my-service");
/// using var channel = IpcChannel.CreateBounded&lt;long&gt;(1024);
/// using (var connection = server.Accept(TimeSpan.FromSeconds(30)))
/// {
///     connection.SendChannel(channel); // the peer calls ReceiveChannel&lt;long&gt;
/// }
/// </code>
/// </example>
public sealed class BootstrapServer : IDisposable
{
    /// <summary>How many not yet accepted connections the kernel queues.</summary>
    public const int Backlog = 16;

    private readonly SafeFdHandle _listener;
    private readonly FdWaiter _waiter = new();
    private readonly (ulong Device, ulong Inode)? _socketFile;
    private readonly BootstrapEndpoint _endpoint;
    private int _disposed;

    private BootstrapServer(SafeFdHandle listener, BootstrapEndpoint endpoint, PeerPolicy policy, (ulong, ulong)? socketFile)
    {
        _listener = listener;
        _endpoint = endpoint;
        Endpoint = endpoint.ToString();
        Policy = policy;
        _socketFile = socketFile;
    }

    /// <summary>Raised (on the accepting thread) after a peer was refused and told why.</summary>
    internal event EventHandler<PeerRefusedEventArgs>? PeerRefused;

    /// <summary>Where the server listens: <c>@name</c>, or the absolute socket path.</summary>
    public string Endpoint { get; }

    /// <summary>Which peers it accepts.</summary>
    public PeerPolicy Policy { get; }

    /// <summary>
    /// Starts listening on <paramref name="endpoint"/>. For a path, a stale socket file left by a
    /// dead server is removed first.
    /// </summary>
    /// <param name="endpoint">Where to listen: <c>@name</c> for a name in the abstract namespace (no file), anything else a socket path (made absolute against the current directory).</param>
    /// <param name="policy">Which peers to accept; <see cref="PeerPolicy.SameUserOnly"/> by default.</param>
    /// <exception cref="UintrIpcException">
    /// EADDRINUSE: a live server holds the endpoint. EEXIST: the path exists and is not a socket.
    /// </exception>
    /// <exception cref="ArgumentException">The name or path is empty, contains NUL or is too long for a Unix socket address (107 bytes).</exception>
    public static BootstrapServer Listen(string endpoint, PeerPolicy? policy = null) => Listen(BootstrapEndpoint.Parse(endpoint), policy);

    /// <summary>Listens on an endpoint parsed already (the RPC server parses before it starts).</summary>
    internal static BootstrapServer Listen(BootstrapEndpoint endpoint, PeerPolicy? policy)
    {
        SafeFdHandle listener = UnixSocket.Create();
        bool bound = false;
        try
        {
            if (!endpoint.IsAbstract)
            {
                RemoveStaleSocketFile(endpoint);
            }

            int errno = UnixSocket.Bind(listener, endpoint);
            if (errno != 0)
            {
                throw new UintrIpcException($"bind {endpoint}", errno, errno == LibC.EADDRINUSE
                    ? "Another server holds this endpoint: stop it or pick another name."
                    : errno == LibC.EACCES ? "No permission to create the socket file there: pick a directory you can write to."
                    : errno == LibC.ENOENT ? "The directory does not exist." : null);
            }

            bound = true;
            var socketFile = endpoint.IsAbstract ? default((ulong, ulong)?) : FileIdentity(endpoint.Name);
            UnixSocket.Listen(listener, Backlog);
            return new BootstrapServer(listener, endpoint, policy ?? PeerPolicy.SameUserOnly, socketFile);
        }
        catch
        {
            listener.Dispose();
            if (bound && !endpoint.IsAbstract)
            {
                Unlink(endpoint.Name);
            }

            throw;
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for a peer the policy accepts and completes the
    /// handshake with it. Refused peers are told why (they get a <see cref="UintrIpcException"/>
    /// with errno EACCES and the reason in its message) and skipped; the wait goes on.
    /// </summary>
    /// <param name="timeout">How long to wait for an acceptable peer, or <see cref="Timeout.InfiniteTimeSpan"/> to wait for the next one without a limit (a server's accept loop: <paramref name="cancellationToken"/> or <see cref="Dispose"/> ends the wait).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">No acceptable peer connected in time (the message says how many the policy refused, and why the last one).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The server was disposed (also while waiting).</exception>
    public BootstrapConnection Accept(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long deadline = FdWaiter.DeadlineFrom(timeout, nameof(timeout));
        int refused = 0;
        string? lastRefusal = null;
        while (true)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            SafeFdHandle? socket = AcceptOrNull();
            if (socket is null)
            {
                if (!WaitForPeer(deadline, cancellationToken))
                {
                    // A peer refused by the policy was told why; the waiting side is told too, or a
                    // refusal looks like a peer that never came.
                    throw new TimeoutException(refused == 0
                        ? $"No peer connected to the bootstrap server at {Endpoint} within {timeout}."
                        : $"No acceptable peer connected to the bootstrap server at {Endpoint} within {timeout}: its PeerPolicy ({Policy}) refused {refused} peer(s), the last one because {lastRefusal}. Widen the policy (PeerPolicy.AllowUsers, Where) if they should be served.");
                }

                continue;
            }

            var connection = Handshake(socket, out string? refusal);
            if (connection is not null)
            {
                return connection;
            }

            if (refusal is not null)
            {
                refused++;
                lastRefusal = refusal;
            }
        }
    }

    /// <summary>The next pending connection, or null when none is.</summary>
    /// <exception cref="ObjectDisposedException">The server was disposed (see <see cref="DisposedMeanwhile"/>).</exception>
    private SafeFdHandle? AcceptOrNull()
    {
        try
        {
            return UnixSocket.Accept(_listener);
        }
        catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) != 0)
        {
            throw DisposedMeanwhile();
        }
    }

    /// <summary>Waits until a connection is pending (true) or the deadline passed (false).</summary>
    /// <exception cref="ObjectDisposedException">The server was disposed (see <see cref="DisposedMeanwhile"/>).</exception>
    private bool WaitForPeer(long deadline, CancellationToken cancellationToken)
    {
        try
        {
            return _waiter.Wait(_listener, Sys.POLLIN, deadline, this, cancellationToken);
        }
        catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) != 0)
        {
            throw DisposedMeanwhile();
        }
    }

    /// <summary>
    /// A Dispose on another thread that closed the listening descriptor (or the waiter's) between
    /// Accept's disposed check and its use: the handle's own ObjectDisposedException named
    /// SafeFdHandle (about 1 in 3,000 rounds); the caller disposed the server, and is told so.
    /// </summary>
    private ObjectDisposedException DisposedMeanwhile()
        => new(GetType().FullName, "The bootstrap server was disposed (on another thread) while Accept waited for a peer.");

    /// <summary>Accepts a peer without a time limit (cancel with <paramref name="cancellationToken"/>).</summary>
    public Task<BootstrapConnection> AcceptAsync(CancellationToken cancellationToken = default)
        => AcceptAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Accepts a peer, waiting on a dedicated thread up to <paramref name="timeout"/>.</summary>
    public Task<BootstrapConnection> AcceptAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        _ = FdWaiter.DeadlineFrom(timeout, nameof(timeout));
        return FdWaiter.RunBlocking(() => Accept(timeout, cancellationToken), cancellationToken);
    }

    /// <summary>Stops listening and removes the socket file (if it is still ours). Blocked Accept calls throw ObjectDisposedException. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Unlink first: a client that finds the path after this gets ENOENT, not a dead socket.
        if (_socketFile is { } ours && FileIdentity(_endpoint.Name) == ours)
        {
            Unlink(_endpoint.Name);
        }

        _waiter.Close();
        _listener.Dispose();
        _waiter.Dispose();
    }

    /// <summary>Applies the policy to a new connection; returns the connection, or null when the peer was refused (<paramref name="refusal"/> says why) or left.</summary>
    private BootstrapConnection? Handshake(SafeFdHandle socket, out string? refusal)
    {
        refusal = null;
        var connection = BootstrapConnection.Open(socket, _endpoint, isServerSide: true);
        try
        {
            if (!Policy.IsAllowed(connection.Peer, out string? reason))
            {
                Refuse(connection, reason);
                connection.Dispose();
                refusal = reason;
                PeerRefused?.Invoke(this, new PeerRefusedEventArgs(connection.Peer, reason));
                return null;
            }

            connection.SendFrame(BootstrapFrameType.Accept, default, default, BootstrapConnection.DefaultSendTimeout);
            return connection;
        }
        catch (UintrIpcException e) when (e.Errno == LibC.EPIPE || e.Errno == LibC.ECONNRESET)
        {
            // The peer hung up before the handshake (for example Listen's liveness probe): skip it.
            connection.Dispose();
            return null;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Refuse(BootstrapConnection connection, string reason)
    {
        byte[] text = Encoding.UTF8.GetBytes(reason);
        try
        {
            connection.SendFrame(BootstrapFrameType.Refused, text.AsSpan(0, Math.Min(text.Length, BootstrapFrame.MaxReasonBytes)), default, TimeSpan.Zero);
        }
        catch (Exception e) when (e is UintrIpcException or TimeoutException)
        {
            // The peer is gone or not reading; it is refused either way.
        }
    }

    /// <summary>Removes a socket file no server listens on; fails if a live server does, or if the path is not a socket.</summary>
    private static void RemoveStaleSocketFile(BootstrapEndpoint endpoint)
    {
        if (!TryLStat(endpoint.Name, out stat st))
        {
            return; // nothing there
        }

        if ((st.st_mode & LibC.S_IFMT) != LibC.S_IFSOCK)
        {
            throw new UintrIpcException($"bind {endpoint}", LibC.EEXIST, "The path exists and is not a socket; it is left alone. Pick another path.");
        }

        using SafeFdHandle probe = UnixSocket.Create();
        int errno = UnixSocket.Connect(probe, endpoint);
        if (errno == LibC.ECONNREFUSED)
        {
            // Nobody listens: a dead server's leftover.
            Unlink(endpoint.Name);
            return;
        }

        throw new UintrIpcException($"bind {endpoint}", LibC.EADDRINUSE, errno == 0 || errno == LibC.EAGAIN
            ? "A live server already listens on this path: stop it or pick another path."
            : $"The socket file exists and a test connect to it failed with errno {errno}; remove it if no server uses it.");
    }

    private static unsafe bool TryLStat(string path, out stat st)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        fixed (stat* s = &st)
        {
            if (LibC.lstat(p, s) == 0)
            {
                return true;
            }
        }

        int errno = LibC.errno;
        return errno == LibC.ENOENT ? false : throw new UintrIpcException($"lstat {path}", errno);
    }

    /// <summary>Device and inode of the file at <paramref name="path"/>, or null when it cannot be read.</summary>
    private static (ulong, ulong)? FileIdentity(string path)
    {
        try
        {
            return TryLStat(path, out stat st) ? ((ulong)st.st_dev, (ulong)st.st_ino) : null;
        }
        catch (UintrIpcException)
        {
            return null;
        }
    }

    private static unsafe void Unlink(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            // ENOENT is fine (already gone); anything else would leave a file the next Listen removes as stale.
            _ = LibC.unlink(p);
        }
    }
}
