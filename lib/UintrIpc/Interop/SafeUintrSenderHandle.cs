using System.Runtime.InteropServices;
using UintrIpc.Signaling;

namespace UintrIpc.Interop;

/// <summary>
/// Owns one index of the shim's user-interrupt sender table (UintrIpc_UintrSenderRegister).
/// A sender adds a reference around every send, so that disposing the sender on another
/// thread can never unregister the index in the middle of a send.
/// </summary>
internal sealed class SafeUintrSenderHandle : SafeHandle
{
    /// <summary>Creates an invalid handle.</summary>
    public SafeUintrSenderHandle() : base(invalidHandleValue: -1, ownsHandle: true) { }

    /// <summary>Wraps a registered index.</summary>
    public SafeUintrSenderHandle(int index) : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(index);
        MadeOnWatcher = PeerEndWatcher.IsCurrentThread;
    }

    /// <summary>The index was registered on the PeerEndWatcher thread (which must unregister it on C and D).</summary>
    private bool MadeOnWatcher { get; }

    /// <inheritdoc />
    public override bool IsInvalid => handle == -1;

    /// <summary>The index (valid while the handle is alive).</summary>
    public int Index => (int)handle;

    /// <inheritdoc />
    /// <remarks>
    /// Variant E unregisters an index for the whole process, so any thread (the finalizer too)
    /// can release it. On C and D only the registering thread can: an index of the PeerEndWatcher
    /// thread is handed to it; another is abandoned, its kernel connection ending with the
    /// vector file (WatcherSenderReleases).
    /// </remarks>
    protected override bool ReleaseHandle() => WatcherSenderReleases.Release((int)handle, MadeOnWatcher);
}
