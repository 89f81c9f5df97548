using UintrIpc.Bootstrap;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

// The peer of every RPC session of the process, clients' and servers' alike (uintripc_rpc.h
// section 7): its bootstrap connection (nothing may be sent after the handshake) and, where the
// kernel has pidfds, its process, watched by the process's one PeerEndWatcher thread. Dispose
// the watch before the connection (closing the connection is how the other side learns of the end).

/// <summary>Tells a session at once when its peer closed the bootstrap connection or exited.</summary>
internal static class RpcPeerWatcher
{
    /// <summary>
    /// Calls <paramref name="onGone"/> once, on the watcher thread, when the peer of
    /// <paramref name="connection"/> closes it, sends anything, or exits, unless the returned
    /// watch is disposed first. The callback must be quick and must not throw.
    /// </summary>
    /// <exception cref="UintrIpcException">epoll_create1 or epoll_ctl failed (out of descriptors or memory).</exception>
    internal static IDisposable Watch(BootstrapConnection connection, Action onGone)
        => PeerEndWatcher.Watch(connection.Socket, OpenPeer(connection), onGone);

    /// <summary>
    /// A pidfd of the peer as the kernel pinned it at connect (readable at once if it has exited
    /// since), or null: no pidfds here, or (kernels before 6.5) its pid is gone or not visible to us.
    /// </summary>
    private static ProcessHandle? OpenPeer(BootstrapConnection connection)
    {
        if (!connection.IsPeerProcessPinned && connection.Peer.Pid <= 0)
        {
            return null;
        }

        try
        {
            return connection.OpenPeerProcess() is { FileHandle: not null } process ? process : null;
        }
        catch (UintrIpcException)
        {
            return null; // ESRCH: already gone; the socket shows it unless another process holds it
        }
    }
}
