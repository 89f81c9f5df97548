using System.Collections.Concurrent;
using System.Globalization;
using Tmds.Linux;
using UintrIpc.Rpc;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// <see cref="RpcSession.Closing"/>: a handler on the worker pool that waits on it returns when its
/// client is killed or the server is disposed, instead of holding a worker (and Dispose) until its
/// own wait runs out; a callback on it that throws reaches neither the session's threads nor the server.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcSessionClosingTests(ITestOutputHelper output)
{
    private const uint WaitForClose = 40;
    /// <summary>The handler's own bound: long enough that a test can tell a cancelled wait from one that ran out.</summary>
    private static readonly TimeSpan s_handlerWait = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly string _endpoint = SocketNames.NewAbstract("rpcclosing");
    private readonly BlockingCollection<RpcSession> _started = [];
    private readonly BlockingCollection<string> _ended = [];

    [Fact]
    public void A_blocking_handler_waiting_on_Closing_returns_when_its_client_is_killed()
    {
        using var server = CreateServer();
        var closed = new BlockingCollection<RpcSession>();
        server.SessionClosed += (_, session) => closed.Add(session);
        server.Start(_endpoint);

        using var peer = PeerProcess.Start(output, "rpc-client-hold", _endpoint, "0", WaitForClose.ToString(CultureInfo.InvariantCulture));
        Assert.True(_started.TryTake(out RpcSession? session, s_timeout), "the handler never started");
        Assert.False(session!.Closing.IsCancellationRequested);
        Assert.Equal(0, LibC.kill(peer.Pid, LibC.SIGKILL));

        Assert.True(_ended.TryTake(out string? how, s_handlerWait + s_timeout), "the handler never returned");
        Assert.Equal("cancelled", how); // not "ran out": the token ended the wait
        Assert.True(closed.TryTake(out RpcSession? ended, s_timeout), "the session did not close");
        Assert.Same(session, ended);
        Assert.Contains("disconnected or exited", ended!.CloseReason, StringComparison.Ordinal);
        Assert.True(ended.Closing.IsCancellationRequested);
    }

    [Fact]
    public async Task Disposing_the_server_cancels_Closing_for_a_handler_waiting_on_it()
    {
        var server = CreateServer();
        try
        {
            server.Start(_endpoint);
            using var client = RpcClient.Connect(_endpoint);
            var call = Task.Factory.StartNew(() => client.Call(WaitForClose, default, s_timeout), TaskCreationOptions.LongRunning);
            Assert.True(_started.TryTake(out _, s_timeout), "the handler never started");

            server.Dispose();
            Assert.True(_ended.TryTake(out string? how, s_handlerWait + s_timeout), "the handler never returned");
            Assert.Equal("cancelled", how);
            // The answer may or may not have gone out before the session ended.
            try
            {
                Assert.Equal(0, (await call.WaitAsync(s_timeout)).Value);
            }
            catch (RpcConnectionLostException)
            {
            }
        }
        finally
        {
            server.Dispose();
        }
    }

    [Fact]
    public void A_throwing_callback_on_Closing_runs_on_the_thread_pool_and_reaches_neither_the_session_nor_the_server()
    {
        var server = CreateServer();
        try
        {
            var closed = new BlockingCollection<RpcSession>();
            var onPool = new BlockingCollection<bool>();
            server.SessionOpened += (_, session) => session.Closing.Register(() =>
            {
                onPool.Add(Thread.CurrentThread.IsThreadPoolThread);
                throw new InvalidOperationException("a subscriber's bug");
            });
            server.SessionClosed += (_, session) => closed.Add(session);
            server.Start(_endpoint);

            // Ended by the client (the peer watcher's thread notices), then by the server's Dispose (its caller's thread).
            using (var client = RpcClient.Connect(_endpoint))
            {
                Assert.Equal(3, client.Call(RpcTestOps.Add, new RpcArgs(1, 2), s_timeout).Value);
            }

            Assert.True(closed.TryTake(out RpcSession? ended, s_timeout), "the session did not close");
            Assert.DoesNotContain("threw", ended!.CloseReason, StringComparison.Ordinal);
            using var next = RpcClient.Connect(_endpoint);
            Assert.Equal(7, next.Call(RpcTestOps.Add, new RpcArgs(3, 4), s_timeout).Value); // the server still serves
            server.Dispose(); // must not throw the callback's exception
            Assert.True(closed.TryTake(out _, s_timeout), "the second session did not close");
            Assert.True(onPool.TryTake(out bool first, s_timeout), "the first session's callback did not run");
            Assert.True(onPool.TryTake(out bool second, s_timeout), "the second session's callback did not run");
            Assert.Equal((true, true), (first, second));
        }
        finally
        {
            server.Dispose();
        }
    }

    /// <summary>A server whose blocking handler <see cref="WaitForClose"/> waits on its session's Closing for <see cref="s_handlerWait"/> and records what ended the wait.</summary>
    private RpcServer CreateServer()
    {
        var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 1 });
        server.MapBlocking(WaitForClose, (ref RpcRequest r) =>
        {
            _started.Add(r.Session);
            bool cancelled = r.Session.Closing.WaitHandle.WaitOne(s_handlerWait);
            _ended.Add(cancelled ? "cancelled" : "ran out");
            return 0;
        });
        return server;
    }
}
