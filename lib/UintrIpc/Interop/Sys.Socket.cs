using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

/// <summary>
/// libc socket calls for the bootstrap: the public Socket API cannot pass descriptors
/// (SCM_RIGHTS) or read SO_PEERCRED, so these are imported directly. Blittable only;
/// x86-64/arm64 Linux layouts (LP64). Callers retry EINTR.
/// </summary>
internal static unsafe partial class Sys
{
    internal const int AF_UNIX = 1;
    internal const int SOCK_SEQPACKET = 5;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int SOL_SOCKET = 1;
    internal const int SO_PEERCRED = 17;

    /// <summary>A pidfd of the peer, pinned when it connected or listened (Linux 6.5+; ENOPROTOOPT before).</summary>
    internal const int SO_PEERPIDFD = 77;
    internal const int SCM_RIGHTS = 1;
    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_TRUNC = 0x20;
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;

    /// <summary>Bytes of <c>sun_path</c> in <c>struct sockaddr_un</c>.</summary>
    internal const int SunPathLength = 108;

    /// <summary>Offset of <c>sun_path</c> in <c>struct sockaddr_un</c>.</summary>
    internal const int SunPathOffset = 2;

    /// <summary><c>struct sockaddr_un</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SockAddrUn
    {
        public ushort Family;
        public fixed byte Path[SunPathLength];
    }

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary><c>struct msghdr</c> (sequential layout adds the padding after <see cref="NameLength"/>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary><c>struct cmsghdr</c>; its data starts at <see cref="CmsgDataOffset"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    /// <summary><c>struct ucred</c> (SO_PEERCRED).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    /// <summary>CMSG_ALIGN(sizeof(struct cmsghdr)): where a control message's data starts.</summary>
    internal static int CmsgDataOffset => CmsgAlign(sizeof(CmsgHdr));

    /// <summary>CMSG_ALIGN: control messages are aligned to sizeof(size_t).</summary>
    internal static int CmsgAlign(int length) => (length + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);

    /// <summary>CMSG_SPACE: bytes a control message with <paramref name="dataLength"/> data bytes occupies.</summary>
    internal static int CmsgSpace(int dataLength) => CmsgDataOffset + CmsgAlign(dataLength);

    /// <summary>CMSG_LEN: the cmsg_len of a control message with <paramref name="dataLength"/> data bytes.</summary>
    internal static int CmsgLen(int dataLength) => CmsgDataOffset + dataLength;

    [LibraryImport(Libraries.LibC, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Libraries.LibC, EntryPoint = "bind", SetLastError = true)]
    internal static partial int Bind(SafeHandle socket, SockAddrUn* address, uint addressLength);

    [LibraryImport(Libraries.LibC, EntryPoint = "listen", SetLastError = true)]
    internal static partial int Listen(SafeHandle socket, int backlog);

    [LibraryImport(Libraries.LibC, EntryPoint = "accept4", SetLastError = true)]
    internal static partial int Accept4(SafeHandle socket, void* address, uint* addressLength, int flags);

    [LibraryImport(Libraries.LibC, EntryPoint = "connect", SetLastError = true)]
    internal static partial int Connect(SafeHandle socket, SockAddrUn* address, uint addressLength);

    [LibraryImport(Libraries.LibC, EntryPoint = "sendmsg", SetLastError = true)]
    internal static partial nint SendMsg(SafeHandle socket, MsgHdr* message, int flags);

    [LibraryImport(Libraries.LibC, EntryPoint = "recvmsg", SetLastError = true)]
    internal static partial nint RecvMsg(SafeHandle socket, MsgHdr* message, int flags);

    [LibraryImport(Libraries.LibC, EntryPoint = "getsockopt", SetLastError = true)]
    internal static partial int GetSockOpt(SafeHandle socket, int level, int option, void* value, uint* valueLength);
}
