using UintrIpc.Rpc;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// Reads of <see cref="RpcServer.Sessions"/> that wait for the server: it records a session just
/// after sending its welcome, so a client's Connect can return (and its process print) first.
/// </summary>
internal static class RpcServerSessionsWait
{
    /// <summary>The server's only session, once it has recorded it (bounded by <paramref name="timeout"/>).</summary>
    public static RpcSession WaitForSingleSession(this RpcServer server, TimeSpan timeout)
    {
        IReadOnlyList<RpcSession> sessions = [];
        TestWait.Until(() => (sessions = server.Sessions).Count > 0, "the server to record the session", timeout);
        return Assert.Single(sessions);
    }
}
