using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// A server keeps a session's thread (for Dispose to join) only while the session runs: one that
/// accepted many sessions and then none held every ended session's Thread until the next accept (leads43).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcSessionThreadTests
{
    private const uint Echo = 1;
    private const int Clients = 3;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly string _endpoint = SocketNames.NewAbstract("rpcthreads");

    [Fact]
    public void A_session_thread_is_dropped_when_its_session_ends_without_another_accept()
    {
        using var closed = new CountdownEvent(Clients);
        using var server = new RpcServer();
        server.Map(Echo, static (ref RpcRequest r) => r.Args.A0);
        server.SessionClosed += (_, _) => closed.Signal();
        server.Start(_endpoint);

        var clients = new List<RpcClient>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                clients.Add(RpcClient.Connect(_endpoint));
                Assert.Equal(i, clients[i].Call(Echo, new RpcArgs(i), s_timeout).Value); // the session runs: its thread is held
            }

            Assert.Equal(Clients, server.SessionThreadCount);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        Assert.True(closed.Wait(s_timeout), $"{closed.CurrentCount} of {Clients} sessions did not close within {s_timeout}");
        // SessionClosed is raised on the session's thread just before it ends: poll, bounded from the last change.
        int held = server.SessionThreadCount;
        var deadline = DateTime.UtcNow + s_timeout;
        while (held != 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
            int now = server.SessionThreadCount;
            if (now != held)
            {
                (held, deadline) = (now, DateTime.UtcNow + s_timeout);
            }
        }

        Assert.Equal(0, held);
    }
}
