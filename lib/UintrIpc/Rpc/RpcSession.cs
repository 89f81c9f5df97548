using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using UintrIpc.Bootstrap;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

/// <summary>
/// One connected client of an <see cref="RpcServer"/>, as handlers and the session events see
/// it: who it is and what the application keeps for it (<see cref="State"/>, e.g. the
/// client's own descriptor table).
/// </summary>
[DebuggerDisplay("session {Id} ({Peer})")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Closing's source is never disposed: handlers may read the token after the session ended (see _closing).")]
public sealed class RpcSession
{
    private readonly RpcServerSession _owner;
    /// <summary>Never disposed: a handler may still read <see cref="Closing"/> after the session ended (a disposed source's Token throws).</summary>
    private readonly CancellationTokenSource _closing = new();
    private long _requests;

    internal RpcSession(ulong id, PeerCredentials peer, DoorbellKind doorbell, int maxCalls, long arenaLength, RpcServerSession owner)
    {
        _owner = owner;
        Id = id;
        Peer = peer;
        Doorbell = doorbell;
        MaxCalls = maxCalls;
        ArenaLength = arenaLength;
    }

    /// <summary>The server's number for the session (unique within one server instance).</summary>
    public ulong Id { get; }

    /// <summary>The client process, as the kernel reported it (SO_PEERCRED).</summary>
    public PeerCredentials Peer { get; }

    /// <summary>
    /// Opens a pidfd of the client process for the caller to keep and dispose: a duplicate of
    /// the one the kernel pinned when the client connected (SO_PEERPIDFD, Linux 6.5+). It polls
    /// readable once that process exits and never comes to name another process, also when the
    /// client has exited and its pid was given to another process before this call, which a
    /// <c>pidfd_open</c> of <see cref="PeerCredentials.Pid"/> would then open instead.
    /// </summary>
    /// <returns>The pidfd (close-on-exec), or null on a kernel without pidfds (before Linux 5.3).</returns>
    /// <remarks>
    /// On kernels before 6.5 (no SO_PEERPIDFD) it is <c>pidfd_open</c> of the client's pid at this
    /// call: call it early (in <see cref="RpcServer.SessionOpened"/>) to keep the window for a
    /// reused pid short.
    /// </remarks>
    /// <example>
    /// Watch the client while a handler waits on something else (a FIFO, a lock):
    /// <!-- snippet-context session-server
    /// using var server = new RpcServer();
    /// -->
    /// <!-- snippet: fragment session-server -->
    /// <code>
    /// server.SessionOpened += (_, session) => session.State = session.OpenPeerProcess();
    /// // later: poll the pidfd together with the other descriptor; POLLIN on it = the client exited
    /// </code>
    /// </example>
    /// <exception cref="UintrIpcException">ESRCH: the client exited before it could be pinned (before
    /// Linux 6.16 the kernel gives no pidfd of a reaped process), or no descriptor could be had (EMFILE).</exception>
    /// <exception cref="ObjectDisposedException">The session has closed (its connection and pin are gone).</exception>
    public SafeFileHandle? OpenPeerProcess()
    {
        using ProcessHandle process = _owner.OpenPeerProcess();
        if (process.FileHandle is not { } pidfd)
        {
            return null;
        }

        // Ownership moves to the caller's handle: ours must not close the descriptor too.
        var handle = new SafeFileHandle(pidfd.DangerousGetHandle(), ownsHandle: true);
        pidfd.SetHandleAsInvalid();
        return handle;
    }

    /// <summary>
    /// Cancelled when the session starts to end: the client disconnected or exited, the server is
    /// being disposed, or the client broke the protocol. A handler that waits (one mapped with
    /// <see cref="RpcServer.MapBlocking"/> on a lock, a pipe, another service) passes it to its
    /// wait, so that a client gone does not keep a worker, and the server's Dispose, waiting for
    /// an answer nobody will read. Callbacks registered on it run on the thread pool, never on the
    /// session's own threads (a callback that blocks or throws cannot hold or kill them).
    /// </summary>
    /// <example>
    /// <!-- snippet-context closing-server
    /// using var server = new RpcServer();
    /// var jobs = new System.Collections.Concurrent.BlockingCollection<long>();
    /// -->
    /// <!-- snippet: fragment closing-server -->
    /// <code>
    /// server.MapBlocking(7, (ref RpcRequest r) =>
    /// {
    ///     try
    ///     {
    ///         return jobs.TryTake(out long job, 30_000, r.Session.Closing) ? job : -110; // -ETIMEDOUT
    ///     }
    ///     catch (OperationCanceledException)
    ///     {
    ///         return -125; // -ECANCELED: the client is gone (or the server stops); nobody reads it
    ///     }
    /// });
    /// </code>
    /// </example>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Cancels <see cref="Closing"/> (once; its callbacks go to the thread pool). Called by every path that ends the session.</summary>
    internal void BeginClosing()
    {
        if (!_closing.IsCancellationRequested)
        {
            _ = _closing.CancelAsync(); // a callback's exception stays in the task, away from the caller's thread
        }
    }

    /// <summary>The doorbell of both directions.</summary>
    public DoorbellKind Doorbell { get; }

    /// <summary>Call slots of the session.</summary>
    public int MaxCalls { get; }

    /// <summary>Bytes of the session's arena.</summary>
    public long ArenaLength { get; }

    /// <summary>Requests answered so far.</summary>
    public long Requests => Volatile.Read(ref _requests);

    /// <summary>
    /// How often the session thread and the client's callers slept and were woken (the
    /// session's wait-block counters); after the session ended, the counts at its end.
    /// </summary>
    internal RpcWakeStatistics WakeStatistics => _owner.ReadWakeStatistics();

    /// <summary>
    /// Why the session ended: the client disconnected or died, the server stopped, or the client
    /// broke the protocol; null while it is open (set before <see cref="RpcServer.SessionClosed"/> is raised).
    /// </summary>
    public string? CloseReason { get; internal set; }

    /// <summary>Application state of the session (set it in <see cref="RpcServer.SessionOpened"/>, release it in <see cref="RpcServer.SessionClosed"/>).</summary>
    public object? State { get; set; }

    internal void CountRequests(int count) => Volatile.Write(ref _requests, _requests + count); // one writer: the session thread

    /// <inheritdoc />
    public override string ToString() => $"session {Id} ({Peer})";
}
