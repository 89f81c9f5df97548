using UintrIpc.Bootstrap;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>The C client (samples/SyscallForward/c-client, only interop/include headers) against the managed server.</summary>
[Collection(CrossProcessCollection.Name)]
public sealed class CClientTests(ITestOutputHelper output) : IDisposable
{
    private readonly ScratchTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void The_C_client_forwards_every_opcode_to_the_managed_server()
    {
        var endpoint = SocketNames.NewAbstract("fwdc");
        using var server = ForwardServerProcess.Start(output, "serve: ready", "serve", "--socket", endpoint, "--root", _tree.Root);
        var run = ExternalProgram.Run(Path.Combine(AppContext.BaseDirectory, "fwd_client"), endpoint);
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("fwd_client: 21 checks passed", run.StandardOutput, StringComparison.Ordinal);

        server.Stop();
        Assert.Contains("hello from the C client", server.Output, StringComparison.Ordinal);
        Assert.Matches(@"client \d+ disconnected \(.*\): 20016 calls", server.Output);
        Assert.Equal("written BY the C client\n", File.ReadAllText(Path.Combine(_tree.Root, "c-client.txt")));
    }
}
