using System.Diagnostics;
using System.Text;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Bootstrap;

/// <summary>
/// The client side of <see cref="BootstrapConnection.Connect"/>: checks the server's credentials
/// against the client's own policy, then waits for the server's verdict (ACCEPT or REFUSED with a reason).
/// </summary>
internal static class BootstrapClient
{
    /// <summary>How long Connect sleeps between attempts while no server listens yet.</summary>
    private static readonly TimeSpan s_retryInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Connects to <paramref name="endpoint"/> and completes the handshake within
    /// <paramref name="timeout"/>. While no server listens there yet (ENOENT, ECONNREFUSED) or its
    /// queue is full (EAGAIN), Connect retries until the timeout.
    /// </summary>
    /// <param name="endpoint">Where the server listens.</param>
    /// <param name="timeout">Bound on the whole connect and handshake (or <see cref="Timeout.InfiniteTimeSpan"/>).</param>
    /// <param name="serverPolicy">Which servers to trust; <see cref="PeerPolicy.SameUserOnly"/> by default
    /// (this matters for abstract names, which anyone can bind).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">The server did not answer in time (no server listened, or it did not call Accept).</exception>
    /// <exception cref="UintrIpcException">EACCES: the server refused this process, or <paramref name="serverPolicy"/> refused the server (the message says which and why). Otherwise no server could be reached before the timeout (the errno of the last attempt).</exception>
    public static BootstrapConnection Connect(BootstrapEndpoint endpoint, TimeSpan timeout, PeerPolicy? serverPolicy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        long deadline = FdWaiter.DeadlineFrom(timeout, nameof(timeout));
        SafeFdHandle socket = ConnectSocket(endpoint, deadline, timeout, cancellationToken);
        BootstrapConnection connection = BootstrapConnection.Open(socket, endpoint, isServerSide: false);
        try
        {
            // Judge the server before reading anything from it.
            if (!(serverPolicy ?? PeerPolicy.SameUserOnly).IsAllowed(connection.Peer, out string? reason))
            {
                throw Refused(connection.Endpoint, $"This process refused the bootstrap server: {reason}. Is the right server listening there? Adjust the client's PeerPolicy if it is.");
            }

            TimeSpan remaining = deadline == FdWaiter.NoDeadline ? Timeout.InfiniteTimeSpan
                : Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
            BootstrapFrameType type;
            BootstrapMessage verdict;
            try
            {
                (type, verdict) = connection.ReceiveFrame(remaining, cancellationToken);
            }
            catch (TimeoutException e)
            {
                // connect() succeeds as soon as the kernel queues the connection; only Accept answers.
                throw new TimeoutException(
                    $"The bootstrap server at {connection.Endpoint} ({connection.Peer}) took the connection but did not answer the handshake within {timeout}: a server answers only while it runs Accept or AcceptAsync. Is it accepting, or busy with another peer?", e);
            }

            using (verdict)
            {
                switch (type)
                {
                    case BootstrapFrameType.Accept when verdict.FdCount == 0:
                        return connection;
                    case BootstrapFrameType.Refused:
                        throw Refused(connection.Endpoint, $"The bootstrap server refused this process: {DecodeReason(verdict.Payload.Span)}. Check the server's PeerPolicy (which users it allows).");
                    default:
                        throw new BootstrapProtocolException(connection.Endpoint, $"the server's first message is {type} with {verdict.FdCount} descriptors; expected ACCEPT or REFUSED without descriptors");
                }
            }
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A refusal by either side's <see cref="PeerPolicy"/>: EACCES, and a message that says who
    /// refused, the refusing side's reason and what to check. No descriptor was passed and nothing mapped.
    /// </summary>
    private static UintrIpcException Refused(string endpoint, string whoAndWhy)
        => new($"bootstrap handshake with {endpoint}", LibC.EACCES, whoAndWhy);

    /// <summary>Connects on a dedicated thread; see <see cref="Connect"/>.</summary>
    public static Task<BootstrapConnection> ConnectAsync(BootstrapEndpoint endpoint, TimeSpan timeout, PeerPolicy? serverPolicy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _ = FdWaiter.DeadlineFrom(timeout, nameof(timeout));
        return FdWaiter.RunBlocking(() => Connect(endpoint, timeout, serverPolicy, cancellationToken), cancellationToken);
    }

    private static SafeFdHandle ConnectSocket(BootstrapEndpoint endpoint, long deadline, TimeSpan timeout, CancellationToken cancellationToken)
    {
        while (true)
        {
            SafeFdHandle socket = UnixSocket.Create();
            int errno;
            do
            {
                errno = UnixSocket.Connect(socket, endpoint);
            }
            while (errno == LibC.EINTR);

            if (errno == 0)
            {
                return socket;
            }

            // A failed connect leaves the socket unusable; a retry needs a fresh one.
            socket.Dispose();
            bool retry = errno == LibC.ENOENT || errno == LibC.ECONNREFUSED || errno == LibC.EAGAIN;
            if (!retry || FdWaiter.HasPassed(deadline))
            {
                throw new UintrIpcException($"connect to {endpoint}", errno, ConnectHint(endpoint, errno, retry, timeout));
            }

            if (cancellationToken.WaitHandle.WaitOne(s_retryInterval))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    private static string? ConnectHint(BootstrapEndpoint endpoint, int errno, bool retried, TimeSpan timeout)
    {
        string after = retried ? $" (retried for {timeout})" : string.Empty;
        // Abstract names belong to a network namespace: a server in another container is not found, whatever its name.
        string elsewhere = endpoint.IsAbstract
            ? " An abstract name (@...) is seen only inside one network namespace: to reach a server in another container or network namespace, listen on a socket path in a directory both can see (a shared volume)."
            : string.Empty;
        return errno == LibC.ENOENT ? $"No server listens at this path{after}: has it started? Is the path right?"
            : errno == LibC.ECONNREFUSED ? $"No server listens on this endpoint{after}: has it started, or did it exit?{elsewhere}"
            : errno == LibC.EAGAIN ? $"The server's queue of pending connections stayed full{after}: is it calling Accept?"
            : errno == LibC.EACCES ? "No permission to connect to the socket file (it belongs to another user)."
            : null;
    }

    /// <summary>Decodes a refusal reason (bounded, so a hostile server cannot hand us a huge string).</summary>
    private static string DecodeReason(ReadOnlySpan<byte> payload)
    {
        var bytes = payload.Length > BootstrapFrame.MaxReasonBytes ? payload[..BootstrapFrame.MaxReasonBytes] : payload;
        string reason = Encoding.UTF8.GetString(bytes);
        return reason.Length == 0 ? "(no reason given)" : reason;
    }
}
