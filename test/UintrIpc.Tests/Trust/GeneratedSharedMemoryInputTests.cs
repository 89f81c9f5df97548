using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// A generated hostile peer in shared memory (test/UintrIpc.TestPeer/Commands/HostileInputCommands.cs):
/// positions a lap ahead or behind, negative or huge, record lengths and types at their boundaries,
/// slot sequence words, producer-table entries, bit flips in the descriptor, the region header and
/// its part table, while the child runs the API as the consumer or the producer on a mapping between
/// guard pages. The child runs the property because a read outside the mapping would kill the test
/// host: here it is a failing test that names the signal. Cases are pinned (seed, count), a few
/// seconds each. The child prints its progress every few cases; the test waits as long as it
/// does (<see cref="Quiet"/> without a line fails it), not a fixed time for the whole run.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class GeneratedSharedMemoryInputTests(ITestOutputHelper output)
{
    /// <summary>Longest silence of the child: its watchdog ends a call that hangs after 20 s (exit 5), and it prints every 10 cases.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("records", "spsc")]
    [InlineData("records", "mpsc")]
    [InlineData("slots", "spsc")]
    [InlineData("slots", "mpsc")]
    public void A_generated_hostile_peer_in_a_ring_gets_only_documented_outcomes(string kind, string ring)
        => Run("gen-hostile-ring", [kind, ring, "20261206", "300"]);

    [Fact]
    public void A_generated_hostile_region_header_is_refused_or_describes_parts_inside_the_mapping()
        => Run("gen-hostile-header", ["20261206", "1500"]);

    private void Run(string command, string[] args)
    {
        using var child = PeerProcess.Start(output, command, args);
        int code = child.WaitForExitWhileProgressing(Quiet);
        Assert.True(code != 5, $"a hang: a call did not return.\n{child.StandardOutput}");
        Assert.True(code == 0, $"exit {code}{(code > 128 ? $" (signal {code - 128}: a fault, e.g. an access outside the mapping hit a guard page)" : "")}\nstdout: {child.StandardOutput}\nstderr: {child.StandardError}");
        output.WriteLine(child.StandardOutput);
    }
}
