using System.Diagnostics;
using Tmds.Linux;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Trust;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// <see cref="RpcServer.Dispose"/> with handlers that ignore <see cref="RpcSession.Closing"/>:
/// it waits for its threads once, in all, not once per stuck thread; called by a handler, it
/// does not wait for the handler's own thread.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcServerDisposeTests
{
    private const uint Stuck = 41;
    private const int Workers = 4;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly string _endpoint = SocketNames.NewAbstract("rpcdispose");

    [Fact]
    public async Task Dispose_waits_once_in_all_for_every_worker_stuck_in_a_handler()
    {
        // Before the fix each of the 4 workers got its own join timeout: 4 x 2 s at least.
        var wait = TimeSpan.FromSeconds(2);
        using var release = new ManualResetEventSlim();
        using var entered = new CountdownEvent(Workers);
        var server = new RpcServer(new RpcServerOptions { WorkerThreads = Workers }) { DisposeWaitTimeout = wait };
        server.MapBlocking(Stuck, (ref RpcRequest r) =>
        {
            entered.Signal();
            return release.Wait(s_timeout) ? 1 : 0; // ignores Closing on purpose
        });
        RpcClient? client = null;
        try
        {
            server.Start(_endpoint);
            client = RpcClient.Connect(_endpoint);
            Task<RpcResult>[] calls = [.. Enumerable.Range(0, Workers).Select(_ => client.CallAsync(Stuck, default).AsTask())];
            Assert.True(entered.Wait(s_timeout), "the handlers never all started");

            var elapsed = Stopwatch.StartNew();
            server.Dispose();
            elapsed.Stop();

            // The bound is the point: at least `wait` (the workers are stuck), and far below Workers x wait.
            Assert.True(elapsed.Elapsed < wait * (Workers - 1), $"Dispose took {elapsed.Elapsed.TotalSeconds:F1} s with {Workers} stuck workers and a {wait.TotalSeconds} s wait: one wait per thread, not one in all");
            foreach (var call in calls)
            {
                await Assert.ThrowsAsync<RpcConnectionLostException>(() => call.WaitAsync(s_timeout));
            }
        }
        finally
        {
            release.Set();
            server.Dispose();
            client?.Dispose();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_handler_may_dispose_its_server_without_waiting_for_its_own_thread(bool blocking)
    {
        // Long enough that a wait for the handler's own thread cannot pass for the time Dispose needs.
        var wait = TimeSpan.FromSeconds(20);
        var disposeTook = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = new RpcServer(new RpcServerOptions { WorkerThreads = 1 }) { DisposeWaitTimeout = wait };
        RpcHandler shutdown = (ref RpcRequest r) =>
        {
            var elapsed = Stopwatch.StartNew();
            server.Dispose();
            disposeTook.SetResult(elapsed.Elapsed);
            return 0;
        };
        if (blocking)
        {
            server.MapBlocking(Stuck, shutdown);
        }
        else
        {
            server.Map(Stuck, shutdown);
        }

        try
        {
            server.Start(_endpoint);
            using var client = RpcClient.Connect(_endpoint);
            try
            {
                Assert.Equal(0, client.Call(Stuck, default, s_timeout).Value); // answered, or the session ended first
            }
            catch (RpcConnectionLostException)
            {
            }

            TimeSpan took = await disposeTook.Task.WaitAsync(s_timeout);
            Assert.True(took < wait / 2, $"Dispose called by a {(blocking ? "worker" : "session thread")} handler took {took.TotalSeconds:F1} s: it waited for its own thread");
        }
        finally
        {
            server.Dispose();
        }
    }

    [Fact]
    public void A_blocking_call_read_with_the_call_that_disposes_the_server_is_answered_and_its_session_closes()
    {
        // The session thread reads Shutdown and Work in one batch (both wait in the ring while Gate
        // runs); Shutdown's Dispose stops the worker pool before Work is handed to it. Before the
        // fix Work sat in the stopped pool's queue with a session lease: no answer, the session
        // never closed (SessionClosed never raised, its region and doorbells never released).
        const uint Gate = 1, Shutdown = 2, Work = 3;
        var bound = TimeSpan.FromSeconds(30);
        using var entered = new ManualResetEventSlim();
        using var open = new ManualResetEventSlim();
        using var closed = new ManualResetEventSlim();
        int workRan = 0;
        var server = new RpcServer(new RpcServerOptions { WorkerThreads = 1 });
        server.Map(Gate, (ref RpcRequest r) =>
        {
            entered.Set();
            return open.Wait(s_timeout) ? 1 : 0;
        });
        server.Map(Shutdown, (ref RpcRequest r) =>
        {
            server.Dispose();
            return 2;
        });
        server.MapBlocking(Work, (ref RpcRequest r) =>
        {
            Interlocked.Increment(ref workRan);
            return 3;
        });
        server.SessionClosed += (_, _) => closed.Set();
        try
        {
            server.Start(_endpoint);
            using var raw = new RawRpcClient(_endpoint, arenaLength: 64);
            Assert.True(raw.Send(new RpcWireRequest { Id = 1, Opcode = Gate }, bound), "Gate was not written");
            Assert.True(entered.Wait(bound), "Gate's handler never ran");
            Assert.True(raw.Send(new RpcWireRequest { Id = 2, Opcode = Shutdown }, bound), "Shutdown was not written");
            Assert.True(raw.Send(new RpcWireRequest { Id = 3, Opcode = Work }, bound), "Work was not written");
            open.Set();

            Assert.True(closed.Wait(bound), $"the session did not close within {bound.TotalSeconds} s of its server's Dispose by a handler (a blocking call read with it holds its lease)");
            var answers = new Dictionary<ulong, long>();
            for (int i = 0; i < 3 && raw.Receive(bound) is { } answer; i++)
            {
                answers.Add(answer.Id, answer.Result);
            }

            Assert.Equal(new Dictionary<ulong, long> { [1] = 1, [2] = 2, [3] = -LibC.ESHUTDOWN }, answers);
            Assert.Equal(0, Volatile.Read(ref workRan));
        }
        finally
        {
            open.Set();
            server.Dispose();
        }
    }
}
