using UintrIpc.Bootstrap;
using UintrIpc.Interop;

namespace UintrIpc.Rpc;

/// <summary>
/// Whether the other end of a session's bootstrap connection is gone (uintripc_rpc.h section 7):
/// the kernel closes a dead process's end, which shows here as POLLHUP at once, without a timeout.
/// </summary>
internal static class RpcPeerLiveness
{
    /// <summary>
    /// True when the peer's end is closed, errored, or the peer sent anything (no message is
    /// allowed after the handshake, so data also ends the session). One poll(2) with timeout 0.
    /// </summary>
    internal static bool HasHungUp(BootstrapConnection connection)
    {
        try
        {
            return (UnixSocket.PollNow(connection.Socket, Sys.POLLIN) & (Sys.POLLIN | Sys.POLLHUP | Sys.POLLERR | Sys.POLLNVAL)) != 0;
        }
        catch (ObjectDisposedException)
        {
            return true; // our own end was closed: the session is over either way
        }
    }
}
