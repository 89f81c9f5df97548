namespace SyscallForward.Executor;

/// <summary>The forwarded calls (interop/include/uintripc_fwd.h, enum uipc_fwd_opcode, for the arguments of each).</summary>
public enum ForwardOpcode : ushort
{
    /// <summary>Does nothing; answers 0.</summary>
    Nop = 0,

    /// <summary>Answers the server's pid.</summary>
    GetPid = 1,

    /// <summary>Opens a path beneath the server's directory; answers a descriptor of this client.</summary>
    OpenAt = 2,

    /// <summary>Closes a descriptor of this client.</summary>
    Close = 3,

    /// <summary>read(2) into the response data.</summary>
    Read = 4,

    /// <summary>write(2) of the request data.</summary>
    Write = 5,

    /// <summary>pread(2) into the response data.</summary>
    PRead = 6,

    /// <summary>pwrite(2) of the request data.</summary>
    PWrite = 7,

    /// <summary>lseek(2).</summary>
    LSeek = 8,

    /// <summary>fstat(2), answered as a <see cref="ForwardStat"/> in the response data.</summary>
    FStat = 9,
}
