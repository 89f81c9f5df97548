using System.Collections.Concurrent;
using Tmds.Linux;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// A blocking call queued to the worker pool behind a busy worker when its session ends (the
/// server disposed, its client alive): the worker that takes it later drops it (RunBlocking: the
/// session ended), so its answer must come from the session's end, at once, not from the call's
/// own timeout.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcQueuedCallAfterEndTests
{
    private const uint Gate = 41;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    /// <summary>The handler's own bound: longer than the test's wait for the queued call, so that call cannot be answered by the handler running out.</summary>
    private static readonly TimeSpan s_handlerWait = TimeSpan.FromMinutes(3);
    /// <summary>The calls' own timeout: longer than every wait of the test, so a call that ends within the test did not run out.</summary>
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromMinutes(10);
    private readonly string _endpoint = SocketNames.NewAbstract("rpcqueued");

    [Fact]
    public async Task A_call_queued_behind_a_busy_worker_fails_with_the_sessions_end_while_the_worker_is_still_busy()
    {
        using var gate = new ManualResetEventSlim();
        var started = new BlockingCollection<long>();
        int returned = 0;
        var server = new RpcServer(new RpcServerOptions { WorkerThreads = 1 });
        server.MapBlocking(Gate, (ref RpcRequest r) =>
        {
            started.Add(r.Args.A0);
            gate.Wait(s_handlerWait); // bounded; opened by the test
            Interlocked.Increment(ref returned);
            return r.Args.A0;
        });
        Task? disposing = null;
        try
        {
            server.Start(_endpoint);
            using var client = RpcClient.Connect(_endpoint);
            var busy = Task.Factory.StartNew(() => client.Call(Gate, new RpcArgs(1, 0), s_callTimeout), TaskCreationOptions.LongRunning);
            Assert.True(started.TryTake(out long first, s_timeout), "the first call's handler never started");
            Assert.Equal(1, first);

            var queued = Task.Factory.StartNew(() => client.Call(Gate, new RpcArgs(2, 0), s_callTimeout), TaskCreationOptions.LongRunning);
            RpcSession session = server.WaitForSingleSession(s_timeout);
            TestWait.Until(() => session.Requests == 2, "the second request read and queued to the (busy) worker pool", s_timeout);

            disposing = Task.Run(server.Dispose); // may wait for the busy worker: the gate stays shut meanwhile
            var e = await Assert.ThrowsAsync<RpcConnectionLostException>(() => queued.WaitAsync(s_timeout));
            Assert.Equal(LibC.ESHUTDOWN, e.Errno);
            Assert.Equal(0, Volatile.Read(ref returned)); // told while the worker is still busy, not when it is free
            Assert.True(started.Count == 0, "the queued call's handler ran"); // dropped, not run on an ended session

            gate.Set();
            try
            {
                Assert.Equal(1, (await busy.WaitAsync(s_timeout)).Value); // its answer may or may not have gone out before the end
            }
            catch (RpcConnectionLostException)
            {
            }
        }
        finally
        {
            gate.Set();
            server.Dispose();
            if (disposing is not null)
            {
                await disposing.WaitAsync(s_timeout);
            }
        }
    }
}
