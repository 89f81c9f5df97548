using System.Runtime.InteropServices;
using Tmds.Linux;

namespace SyscallForward.Executor;

/// <summary>
/// A server descriptor held for a client: a SafeHandle, so a call can take a reference on it
/// (DangerousAddRef) and a concurrent close only closes the descriptor when the last call is
/// done with it. fd 0 is valid, -1 is not.
/// </summary>
internal sealed class DescriptorHandle : SafeHandle
{
    /// <summary>Wraps <paramref name="fd"/>; disposing closes it only if <paramref name="ownsHandle"/>.</summary>
    public DescriptorHandle(int fd, bool ownsHandle) : base(invalidHandleValue: -1, ownsHandle) => SetHandle(fd);

    /// <inheritdoc />
    public override bool IsInvalid => handle == -1;

    /// <summary>
    /// Whether the client opened it without O_NONBLOCK: the server's descriptor keeps O_NONBLOCK
    /// all the same, and a read or write that finds no data or no room waits in poll, which also
    /// watches the client's process (a FIFO's read then ends when the client does).
    /// </summary>
    public bool ClientWaits { get; init; }

    /// <summary>The descriptor number (valid while a reference is held).</summary>
    public int Fd => (int)handle;

    /// <inheritdoc />
    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
