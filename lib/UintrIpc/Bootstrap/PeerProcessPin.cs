using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Bootstrap;

// Every pidfd of a connection's peer (channel watches, the signal doorbell's target, the RPC peer
// watcher) is a duplicate of the one the kernel pinned at connect or listen time (SO_PEERPIDFD,
// Linux 6.5+): a peer that exits before we look, its pid reused by then, is still known as the
// process that exited, never as the stranger that now has its pid. Kernels before 6.5
// (ENOPROTOOPT) fall back to pidfd_open(SO_PEERCRED's pid) at each use: there a pid reused
// between the peer's exit and that call is the residual risk.

/// <summary>The peer process of one bootstrap connection, pinned by the kernel where it can.</summary>
internal sealed class PeerProcessPin : IDisposable
{
    private readonly ProcessHandle? _pinned;
    private readonly bool _reapedBeforePinned;
    private readonly int _pid;

    private PeerProcessPin(int pid, ProcessHandle? pinned, bool reapedBeforePinned)
    {
        _pid = pid;
        _pinned = pinned;
        _reapedBeforePinned = reapedBeforePinned;
    }

    /// <summary>Whether the kernel pinned the peer (false: the pidfd_open fallback of kernels before 6.5).</summary>
    internal bool IsPinned => _pinned is not null || _reapedBeforePinned;

    /// <summary>
    /// Pins the peer of <paramref name="socket"/> (SO_PEERPIDFD) and checks that the pidfd names
    /// the pid SO_PEERCRED reported (<paramref name="peer"/>): a pidfd of a process reaped since
    /// (fdinfo Pid -1) is kept, it reports the exit. <paramref name="useKernelPin"/> false takes
    /// the fallback of kernels before 6.5 (tests).
    /// </summary>
    /// <exception cref="UintrIpcException">getsockopt failed otherwise (out of descriptors), or the
    /// pidfd names another pid than SO_PEERCRED (then /proc is not of our pid namespace and
    /// neither answer can be trusted for a signal target: the connection is refused).</exception>
    internal static PeerProcessPin Pin(SafeFdHandle socket, PeerCredentials peer, bool useKernelPin = true)
    {
        if (!useKernelPin)
        {
            return new PeerProcessPin(peer.Pid, null, reapedBeforePinned: false);
        }

        int errno = UnixSocket.GetPeerPidFd(socket, out SafeFdHandle? pidfd);
        if (errno == LibC.ENOPROTOOPT)
        {
            return new PeerProcessPin(peer.Pid, null, reapedBeforePinned: false);
        }

        if (errno == LibC.EINVAL || errno == LibC.ESRCH)
        {
            return new PeerProcessPin(peer.Pid, null, reapedBeforePinned: true); // kernels 6.5-6.15 have no pidfd of a reaped process
        }

        if (errno != 0)
        {
            throw new UintrIpcException("getsockopt(SO_PEERPIDFD)", errno);
        }

        // null: no fdinfo to read (no /proc); the kernel's pidfd is kept, the stronger of the two words.
        int? pid = ProcessHandle.PidOfPidFd(pidfd!.Fd);
        if (pid is { } named && named != peer.Pid && named != -1)
        {
            pidfd.Dispose();
            throw new UintrIpcException(
                $"The kernel names the peer of this bootstrap connection pid {peer.Pid} (SO_PEERCRED) and pid {named} (the fdinfo of its SO_PEERPIDFD): /proc is mounted from another pid namespace than this process's. The connection is refused, since a signal target cannot be trusted; mount /proc of this pid namespace.");
        }

        return new PeerProcessPin(peer.Pid, ProcessHandle.FromOwnedPidFd(peer.Pid, pidfd), reapedBeforePinned: false);
    }

    /// <summary>
    /// A new handle of the peer process for the caller to keep (and dispose). With a pin it may be
    /// of a process that has exited since (<see cref="ProcessHandle.HasExited"/>): its pid is not
    /// looked up again.
    /// </summary>
    /// <exception cref="UintrIpcException">ESRCH: the peer had exited and been reaped before it could be
    /// pinned, or (fallback) no process has its pid now; or a descriptor could not be had.</exception>
    internal ProcessHandle Open()
    {
        if (_pinned is not null)
        {
            return _pinned.Duplicate();
        }

        return _reapedBeforePinned
            ? throw new UintrIpcException($"getsockopt(SO_PEERPIDFD) of pid {_pid}", LibC.ESRCH, "The process has exited.")
            : ProcessHandle.Open(_pid);
    }

    /// <inheritdoc />
    public void Dispose() => _pinned?.Dispose();
}
