using System.Diagnostics;
using System.Globalization;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// A hostile RPC server, generated (TestPeer RawRpcServer, uintripc_rpc.h broken one field or
/// step at a time, or mixed), facing the library's RpcClient in a client process of its own
/// (TestPeer hostile-rpc-client: a crash there is reported, not suffered). Every call ends
/// within its bound with a result or an exception its XML docs list, nothing is written around
/// the caller's buffer, the client's descriptors and mappings return to their count after each
/// Dispose, and an honest server then serves the same library. The server points every pid
/// field it forges at a sentinel process (sleep) or at the client process: a signal the client
/// sent there would kill either (the client's death is reported with its signal). The seed is pinned; UINTRIPC_FUZZ_SEED=n runs another.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class GeneratedRpcServerTests(ITestOutputHelper output)
{
    private static readonly int Cases = Environment.GetEnvironmentVariable("UINTRIPC_HOSTSRV_CASES") is { Length: > 0 } n ? int.Parse(n, CultureInfo.InvariantCulture) : 200;

    [Fact]
    public void Every_client_call_facing_a_generated_hostile_server_ends_in_bound_with_a_documented_outcome_and_leaks_nothing()
    {
        ulong seed = Environment.GetEnvironmentVariable("UINTRIPC_FUZZ_SEED") is { Length: > 0 } s ? ulong.Parse(s, CultureInfo.InvariantCulture) : 0x5EED_5E4;
        string repeat = $"seed {seed} (UINTRIPC_FUZZ_SEED={seed} repeats it), {Cases} cases";
        output.WriteLine(repeat);
        string honestEndpoint = SocketNames.NewAbstract("honest");
        using var honest = PeerProcess.Start(output, "rpc-server", honestEndpoint);
        honest.WaitForOutput("listening");
        using var sentinel = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        try
        {
            using var client = PeerProcess.Start(output, "hostile-rpc-client", SocketNames.NewAbstract("hostsrv"), seed.ToString(CultureInfo.InvariantCulture),
                Cases.ToString(CultureInfo.InvariantCulture), honestEndpoint, sentinel.Id.ToString(CultureInfo.InvariantCulture));
            int code = client.WaitForExitWhileProgressing(TimeSpan.FromSeconds(60));
            // First: the most specific diagnosis (a signalled process fails what follows too).
            if (sentinel.HasExited)
            {
                Assert.Fail($"the sentinel process died (exit {sentinel.ExitCode}): a signal went to a pid read from shared memory; {repeat}");
            }
            Assert.True(code != 5, $"a call did not end (hang); {repeat}\n{client.StandardOutput}");
            Assert.True(code is 0 or 3, $"the client process crashed (exit {code}{(code > 128 ? $", signal {code - 128}" : "")}); {repeat}\nstderr: {client.StandardError}\nstdout: {client.StandardOutput}");
            Assert.True(code == 0, $"{repeat}:\n{client.StandardOutput}\nstderr: {client.StandardError}");
            Assert.Contains("honest server served", client.StandardOutput, StringComparison.Ordinal);
            Assert.Matches(@"outcomes: .*result", client.StandardOutput); // the generator still reaches the success path
        }
        finally
        {
            sentinel.Kill();
            sentinel.WaitForExit(10_000);
        }
    }
}
