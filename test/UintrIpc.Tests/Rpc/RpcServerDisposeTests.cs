using System.Diagnostics;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

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
}
