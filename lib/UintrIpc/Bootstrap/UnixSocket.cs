using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Bootstrap;

/// <summary>
/// Thin wrappers over the SOCK_SEQPACKET Unix socket calls the bootstrap needs. Sockets are
/// non-blocking and close-on-exec; callers wait for readiness with <see cref="FdWaiter"/>.
/// EINTR is retried here; EAGAIN is returned to the caller, which waits and retries.
/// </summary>
internal static unsafe class UnixSocket
{
    /// <summary>Room for exactly <see cref="BootstrapMessage.MaxFds"/> descriptors: more arrive as MSG_CTRUNC.</summary>
    private static readonly int s_controlBytes = Sys.CmsgSpace(BootstrapMessage.MaxFds * sizeof(int));

    internal static SafeFdHandle Create()
    {
        int fd = Sys.Socket(Sys.AF_UNIX, Sys.SOCK_SEQPACKET | Sys.SOCK_NONBLOCK | Sys.SOCK_CLOEXEC, 0);
        return fd >= 0 ? new SafeFdHandle(fd, ownsHandle: true)
            : throw UintrIpcException.FromLastError("socket(AF_UNIX, SOCK_SEQPACKET)", "Is the process out of file descriptors (ulimit -n)?");
    }

    /// <summary>bind(2); 0 or errno.</summary>
    internal static int Bind(SafeFdHandle socket, BootstrapEndpoint endpoint)
    {
        Sys.SockAddrUn address;
        uint length = endpoint.WriteAddress(&address);
        return Sys.Bind(socket, &address, length) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>connect(2); 0 or errno (EAGAIN: the listener's backlog is full).</summary>
    internal static int Connect(SafeFdHandle socket, BootstrapEndpoint endpoint)
    {
        Sys.SockAddrUn address;
        uint length = endpoint.WriteAddress(&address);
        return Sys.Connect(socket, &address, length) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    internal static void Listen(SafeFdHandle socket, int backlog)
    {
        if (Sys.Listen(socket, backlog) != 0)
        {
            throw UintrIpcException.FromLastError("listen");
        }
    }

    /// <summary>accept4(2) of one pending connection, or null when none is pending (or it vanished).</summary>
    internal static SafeFdHandle? Accept(SafeFdHandle listener)
    {
        while (true)
        {
            int fd = Sys.Accept4(listener, null, null, Sys.SOCK_NONBLOCK | Sys.SOCK_CLOEXEC);
            if (fd >= 0)
            {
                return new SafeFdHandle(fd, ownsHandle: true);
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR)
            {
                continue;
            }

            if (errno == LibC.EAGAIN || errno == LibC.ECONNABORTED)
            {
                return null;
            }

            throw new UintrIpcException("accept4", errno, errno == LibC.EMFILE || errno == LibC.ENFILE
                ? "The process is out of file descriptors: raise ulimit -n or close unused ones."
                : null);
        }
    }

    /// <summary>The peer's credentials as the kernel recorded them at connect/listen time.</summary>
    internal static PeerCredentials GetPeerCredentials(SafeFdHandle socket)
    {
        Sys.UCred credentials;
        uint length = (uint)sizeof(Sys.UCred);
        if (Sys.GetSockOpt(socket, Sys.SOL_SOCKET, Sys.SO_PEERCRED, &credentials, &length) != 0)
        {
            throw UintrIpcException.FromLastError("getsockopt(SO_PEERCRED)");
        }

        return new PeerCredentials(credentials.Pid, credentials.Uid, credentials.Gid);
    }

    /// <summary>
    /// SO_PEERPIDFD: a pidfd (close-on-exec) of the peer process, pinned by the kernel when the
    /// peer connected or listened. 0 or errno: ENOPROTOOPT before Linux 6.5; EINVAL (before 6.16)
    /// or ESRCH when the peer has exited and been reaped (6.16+ hands out a pidfd of it instead).
    /// </summary>
    internal static int GetPeerPidFd(SafeFdHandle socket, out SafeFdHandle? pidfd)
    {
        int fd = -1;
        uint length = sizeof(int);
        if (Sys.GetSockOpt(socket, Sys.SOL_SOCKET, Sys.SO_PEERPIDFD, &fd, &length) != 0)
        {
            pidfd = null;
            return Marshal.GetLastPInvokeError();
        }

        pidfd = new SafeFdHandle(fd, ownsHandle: true);
        return 0;
    }

    /// <summary>
    /// Sends one datagram with <paramref name="fds"/> in one SCM_RIGHTS message; 0 or errno
    /// (EAGAIN: the peer's queue is full; EPIPE/ECONNRESET: the peer is gone). Never raises SIGPIPE.
    /// </summary>
    internal static int Send(SafeFdHandle socket, ReadOnlySpan<byte> datagram, ReadOnlySpan<SafeHandle> fds)
    {
        if (fds.Length > BootstrapMessage.MaxFds)
        {
            throw new ArgumentOutOfRangeException(nameof(fds), fds.Length, $"At most {BootstrapMessage.MaxFds} descriptors fit in one bootstrap message.");
        }

        int controlBytes = fds.Length == 0 ? 0 : Sys.CmsgSpace(fds.Length * sizeof(int));
        // nuint elements keep the control buffer aligned for struct cmsghdr.
        nuint* control = stackalloc nuint[(controlBytes / sizeof(nuint)) + 1];
        Span<bool> added = stackalloc bool[fds.Length];
        try
        {
            if (fds.Length > 0)
            {
                new Span<byte>(control, controlBytes).Clear();
                var header = (Sys.CmsgHdr*)control;
                header->Length = (nuint)Sys.CmsgLen(fds.Length * sizeof(int));
                header->Level = Sys.SOL_SOCKET;
                header->Type = Sys.SCM_RIGHTS;
                int* data = (int*)((byte*)control + Sys.CmsgDataOffset);
                for (int i = 0; i < fds.Length; i++)
                {
                    ArgumentNullException.ThrowIfNull(fds[i], nameof(fds));
                    // Held until sendmsg returns: the kernel takes its own reference to each file.
                    fds[i].DangerousAddRef(ref added[i]);
                    data[i] = (int)fds[i].DangerousGetHandle();
                }
            }

            fixed (byte* bytes = datagram)
            {
                var iov = new Sys.IoVec { Base = bytes, Length = (nuint)datagram.Length };
                var message = new Sys.MsgHdr
                {
                    Iov = &iov,
                    IovLength = 1,
                    Control = controlBytes == 0 ? null : control,
                    ControlLength = (nuint)controlBytes,
                };
                while (true)
                {
                    nint sent = Sys.SendMsg(socket, &message, Sys.MSG_NOSIGNAL | Sys.MSG_DONTWAIT);
                    if (sent >= 0)
                    {
                        // SOCK_SEQPACKET sends a datagram whole or not at all.
                        return sent == datagram.Length ? 0 : throw new UintrIpcException($"sendmsg sent {sent} of {datagram.Length} bytes of a SOCK_SEQPACKET message.");
                    }

                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != LibC.EINTR)
                    {
                        return errno;
                    }
                }
            }
        }
        finally
        {
            for (int i = 0; i < added.Length; i++)
            {
                if (added[i])
                {
                    fds[i].DangerousRelease();
                }
            }
        }
    }

    /// <summary>
    /// Whether the peer closed its end or shut down its sending side. recvmsg returns 0 both then and
    /// for an empty datagram; only this tells the two apart.
    /// </summary>
    internal static bool PeerHasShutDown(SafeFdHandle socket) => (PollNow(socket, Sys.POLLRDHUP) & (Sys.POLLRDHUP | Sys.POLLHUP)) != 0;

    /// <summary>The events poll(2) reports for <paramref name="fd"/> now (timeout 0), 0 for none or on failure.</summary>
    /// <exception cref="ObjectDisposedException"><paramref name="fd"/> was closed.</exception>
    internal static short PollNow(SafeFdHandle fd, short events)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            var pfd = new Sys.PollFd { Fd = fd.Fd, Events = events };
            int rc;
            do
            {
                rc = Sys.Poll(&pfd, 1, 0);
            }
            while (rc < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR);
            return rc > 0 ? pfd.ReturnedEvents : (short)0;
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Receives one datagram into <paramref name="buffer"/> with MSG_CMSG_CLOEXEC. Every
    /// descriptor that arrived is added to <paramref name="fds"/> (owned, so the caller can
    /// always close them), even when the message is truncated. Returns the bytes received
    /// (0: the peer closed the connection, or an empty datagram: <see cref="PeerHasShutDown"/>) or -errno (-EAGAIN: nothing queued).
    /// </summary>
    internal static nint Receive(SafeFdHandle socket, Span<byte> buffer, List<SafeFdHandle> fds, out int flags)
    {
        nuint* control = stackalloc nuint[(s_controlBytes / sizeof(nuint)) + 1];
        fixed (byte* bytes = buffer)
        {
            while (true)
            {
                var iov = new Sys.IoVec { Base = bytes, Length = (nuint)buffer.Length };
                var message = new Sys.MsgHdr
                {
                    Iov = &iov,
                    IovLength = 1,
                    Control = control,
                    ControlLength = (nuint)s_controlBytes,
                };
                nint received = Sys.RecvMsg(socket, &message, Sys.MSG_CMSG_CLOEXEC | Sys.MSG_DONTWAIT);
                if (received < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    flags = 0;
                    return -errno;
                }

                flags = message.Flags;
                CollectFds((byte*)control, (nint)Math.Min(message.ControlLength, (nuint)s_controlBytes), fds);
                return received;
            }
        }
    }

    /// <summary>Takes ownership of every descriptor in the SCM_RIGHTS messages of a control buffer.</summary>
    private static void CollectFds(byte* control, nint length, List<SafeFdHandle> fds)
    {
        byte* p = control;
        byte* end = control + length;
        while (end - p >= sizeof(Sys.CmsgHdr))
        {
            var header = (Sys.CmsgHdr*)p;
            nuint cmsgLength = header->Length;
            if (cmsgLength < (nuint)sizeof(Sys.CmsgHdr) || cmsgLength > (nuint)(end - p))
            {
                break;
            }

            if (header->Level == Sys.SOL_SOCKET && header->Type == Sys.SCM_RIGHTS)
            {
                int count = (int)((cmsgLength - (nuint)Sys.CmsgDataOffset) / sizeof(int));
                int* data = (int*)(p + Sys.CmsgDataOffset);
                for (int i = 0; i < count; i++)
                {
                    fds.Add(new SafeFdHandle(data[i], ownsHandle: true));
                }
            }

            p += Sys.CmsgAlign((int)cmsgLength);
        }
    }
}
