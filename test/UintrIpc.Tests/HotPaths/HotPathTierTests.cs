using System.Diagnostics;
using System.Reflection;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.HotPaths;

/// <summary>
/// The record rings' per-message methods (and the slot batch's publish) that callers do not inline run optimized from their
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
        List<string> engine = CompiledMethods("record-hot-path-tiers", "UintrIpc.Rings.RecordRingEngine:");
        // The summary names the commit: the check below sees the methods it is about.
        Assert.Contains(engine, l => l.Contains(":CommitBatch(", StringComparison.Ordinal));
        Assert.Contains(engine, l => l.Contains(":TryClaimSpscBatch(", StringComparison.Ordinal));
        var tier0 = engine.Where(l => s_perMessage.Any(m => l.Contains(m, StringComparison.Ordinal)) && l.Contains("Tier0", StringComparison.Ordinal)).ToList();
        Assert.True(tier0.Count == 0, "compiled at Tier0:\n" + string.Join('\n', tier0));
    }

    /// <summary>
    /// A slot batch's publish (its one out-of-line call, the engine's publish loop inlined in it)
    /// runs optimized from its first call, as the engine's publish did when it was a method of its
    /// own; so does the SPSC producer's write prefetch, called once per batch or once in many
    /// single claims (where the shim has it).
    /// </summary>
    [Fact]
    public void Slot_batch_publish_and_the_write_prefetch_run_optimized_from_their_first_call()
    {
        List<string> compiled = CompiledMethods("slot-hot-path-tiers", "UintrIpc.");
        var publish = compiled.Where(l => l.Contains("UintrIpc.Channels.SlotBatch`1[", StringComparison.Ordinal) && l.Contains(":PublishSlots(", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(publish); // the summary names it: the check below sees it
        var prefetch = compiled.Where(l => l.Contains("UintrIpc.Rings.SlotRingEngine:PrefetchSlots(", StringComparison.Ordinal)).ToList();
        if (HasWritePrefetch)
        {
            Assert.NotEmpty(prefetch);
        }

        var tier0 = publish.Concat(prefetch).Where(l => l.Contains("Tier0", StringComparison.Ordinal)).ToList();
        Assert.True(tier0.Count == 0, "compiled at Tier0:\n" + string.Join('\n', tier0));
    }

    private static unsafe bool HasWritePrefetch => UintrIpc.Interop.Shim.PrefetchWrite != null;

    /// <summary>The JIT's summary lines containing <paramref name="prefix"/> of a fresh peer that ran <paramref name="command"/> 3 rounds.</summary>
    private List<string> CompiledMethods(string command, string prefix)
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
            using (var peer = PeerProcess.StartWrapped(output, [], environment, command, "3"))
            {
                peer.AssertSuccess();
            }

            return File.ReadAllLines(summary).Where(l => l.Contains(prefix, StringComparison.Ordinal)).ToList();
        }
        finally
        {
            File.Delete(summary);
        }
    }
}
