using System.Runtime.InteropServices;
using Tmds.Linux;

namespace UintrIpc.Interop;

/// <summary>Owns a Linux file descriptor (memfd, eventfd, socket); fd 0 is valid, -1 is not.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    /// <summary>Creates an invalid handle.</summary>
    public SafeFdHandle() : base(invalidHandleValue: -1, ownsHandle: true) { }

    /// <summary>Wraps an existing descriptor.</summary>
    /// <param name="fd">The descriptor.</param>
    /// <param name="ownsHandle">Whether disposing the handle closes the descriptor.</param>
    public SafeFdHandle(int fd, bool ownsHandle) : base(invalidHandleValue: -1, ownsHandle) => SetHandle(fd);

    /// <inheritdoc />
    public override bool IsInvalid => handle == -1;

    /// <summary>The descriptor number (valid while the handle is alive).</summary>
    public int Fd => (int)handle;

    /// <inheritdoc />
    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
