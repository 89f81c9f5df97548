using UintrIpc.Bootstrap;
using UintrIpc.Rpc;
using UintrIpc.Signaling;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// Steady-state calls allocate nothing: a synchronous call (with input and output) on the
/// calling thread, and asynchronous calls across all threads (the awaiting method's own state
/// machine is allocated once, not per call). The async test needs a Release build (in Debug the
/// compiler makes async state machines classes).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcAllocationTests : IDisposable
{
    private const int Calls = 3000;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly RpcServer _server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 0 });
    private readonly RpcClient _client;
    private readonly ITestOutputHelper _output;

    public RpcAllocationTests(ITestOutputHelper output)
    {
        _output = output;
        var endpoint = SocketNames.NewAbstract("rpcalloc");
        _server.Start(endpoint);
        _client = RpcClient.Connect(endpoint, new RpcClientOptions { Doorbell = DoorbellKind.Futex });
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void Synchronous_calls_allocate_nothing_on_the_calling_thread()
    {
        byte[] input = new byte[256];
        byte[] output = new byte[256];
        long Run()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Calls; i++)
            {
                if (_client.Call(RpcTestOps.Echo, default, input, output, s_timeout).Value != input.Length
                    || _client.Call(RpcTestOps.Add, new RpcArgs(i, 1), s_timeout).Value != i + 1)
                {
                    Assert.Fail("wrong answer");
                }
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Run(); // warm up (JIT, lazy statics)
        Assert.Equal(0, Run());
    }

    [Fact]
    public void Asynchronous_calls_allocate_nothing_per_call()
    {
        var debuggable = (System.Diagnostics.DebuggableAttribute?)Attribute.GetCustomAttribute(typeof(RpcClient).Assembly, typeof(System.Diagnostics.DebuggableAttribute));
        Assert.SkipWhen(debuggable?.IsJITOptimizerDisabled == true, "UintrIpc is a Debug build: async state machines are classes allocated per call; run the tests with -c Release");

        // The calls' threads are several (the awaiting pool threads, the client's receiver, the
        // server's session thread), so only a process-wide count sees them all; in this process
        // that count includes the runner's bookkeeping and other tests' leftover threads. A child
        // process that runs nothing but the calls measures them alone.
        using var peer = PeerProcess.Start(_output, "rpc-async-alloc", SocketNames.NewAbstract("rpcalloc-child"), Calls.ToString(System.Globalization.CultureInfo.InvariantCulture));
        peer.AssertSuccess();
        long bytes = long.Parse(peer.StandardOutput.Split('\n').Single(l => l.StartsWith("allocated ", StringComparison.Ordinal))[10..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        // One object per call would be 24 bytes or more per call; what a runtime thread may
        // allocate once (a thread-pool thread started) stays far below one byte per call.
        Assert.True(bytes < Calls, $"{bytes} bytes for {Calls} asynchronous calls");
    }
}
