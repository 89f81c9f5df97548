using System.Runtime.InteropServices;

namespace SyscallForward.Executor;

/// <summary>FSTAT's answer: struct uipc_fwd_stat of interop/include/uintripc_fwd.h (96 bytes, fixed offsets).</summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct ForwardStat
{
    /// <summary>sizeof(struct uipc_fwd_stat).</summary>
    public const int Size = 96;

    /// <summary>Device.</summary>
    [FieldOffset(0)] public ulong Dev;

    /// <summary>Inode.</summary>
    [FieldOffset(8)] public ulong Ino;

    /// <summary>Link count.</summary>
    [FieldOffset(16)] public ulong NLink;

    /// <summary>Type and permission bits.</summary>
    [FieldOffset(24)] public uint Mode;

    /// <summary>Owner.</summary>
    [FieldOffset(28)] public uint Uid;

    /// <summary>Group.</summary>
    [FieldOffset(32)] public uint Gid;

    /// <summary>Device number of a special file.</summary>
    [FieldOffset(40)] public ulong RDev;

    /// <summary>Size in bytes.</summary>
    [FieldOffset(48)] public long FileSize;

    /// <summary>Preferred I/O block size.</summary>
    [FieldOffset(56)] public long BlockSize;

    /// <summary>512-byte blocks allocated.</summary>
    [FieldOffset(64)] public long Blocks;

    /// <summary>Last access, ns since the epoch.</summary>
    [FieldOffset(72)] public long AccessTimeNs;

    /// <summary>Last modification, ns since the epoch.</summary>
    [FieldOffset(80)] public long ModifyTimeNs;

    /// <summary>Last status change, ns since the epoch.</summary>
    [FieldOffset(88)] public long ChangeTimeNs;
}
