using System.Diagnostics;
using System.Reflection;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.HotPaths;

/// <summary>
/// The record rings' per-message methods that callers do not inline run optimized from their
/// first call (RecordRingEngine.cs: tier-0 code made a record ring 5-20x slower until tiered
/// compilation caught up, which a short run never sees). Asked of the JIT itself: a fresh peer
/// process drives the paths a few times (fewer calls than tier-up needs) with the JIT's summary
/// of every compiled method written to a file.
/// </summary>
public sealed class HotPathTierTests(ITestOutputHelper output)
{
    /// <summary>The engine's per-message methods (as the JIT names them) that must never be compiled at Tier0.</summary>
    private static readonly string[] s_perMessage =
        [":TryClaimSpscBatch(", ":TryClaimMpscBatch(", ":CommitBatch(", ":CommitMpscBatch(", ":CommitSpscEntries(", ":CommitSpscReadBack(", ":TryRead(", ":TryReadGeneral(", ":Release(", ":TryClaimRangeMpsc("];

    [Fact]
    public void Record_batch_commit_and_TryRead_run_optimized_from_their_first_call()
    {
        var debuggable = typeof(RecordRing).Assembly.GetCustomAttribute<DebuggableAttribute>();
        Assert.SkipWhen(debuggable?.IsJITOptimizerDisabled == true, "UintrIpc is a Debug build: the JIT compiles it without optimizations; run the tests with -c Release");
        string summary = Path.Combine(Path.GetTempPath(), $"uintripc-test-jit-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["DOTNET_TieredCompilation"] = "1",
                ["DOTNET_JitDisasmSummary"] = "1",
                ["DOTNET_JitStdOutFile"] = summary,
            };
            using (var peer = PeerProcess.StartWrapped(output, [], environment, "record-hot-path-tiers", "3"))
            {
                peer.AssertSuccess();
            }

            var engine = File.ReadAllLines(summary).Where(l => l.Contains("UintrIpc.Rings.RecordRingEngine:", StringComparison.Ordinal)).ToList();
            // The summary names the commit: the check below sees the methods it is about.
            Assert.Contains(engine, l => l.Contains(":CommitBatch(", StringComparison.Ordinal));
            Assert.Contains(engine, l => l.Contains(":TryClaimSpscBatch(", StringComparison.Ordinal));
            var tier0 = engine.Where(l => s_perMessage.Any(m => l.Contains(m, StringComparison.Ordinal)) && l.Contains("Tier0", StringComparison.Ordinal)).ToList();
            Assert.True(tier0.Count == 0, "compiled at Tier0:\n" + string.Join('\n', tier0));
        }
        finally
        {
            File.Delete(summary);
        }
    }
}
