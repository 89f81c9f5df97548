using System.Text.Json.Nodes;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// An A/B run against a build from before the clock-step interpolation (docs/design-notes.md
/// "rtt") compares a nearest-rank p50 (A) with an interpolated one (B): at a 10 ns step the method
/// alone moves a p50 by up to 5 ns, 4 % of a 120 ns round trip. The A/B table must say so.
/// </summary>
public sealed class AbPercentileMethodTests
{
    [Fact]
    public void An_ab_table_flags_latency_rows_whose_builds_computed_percentiles_differently()
    {
        // The committed A/B (both builds before the change: no clock_tick_ns), with B's latency rows
        // given the step the newer harness records on them.
        var report = JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("docs", "results", "ab.json")))!;
        JsonArray pairs = report["pairs"]!.AsArray();
        string latencyTest = (string)pairs.First(p => (string?)p!["candidate"]?["kind"] == "latency")!["test"]!;
        string throughputTest = (string)pairs.First(p => (string?)p!["candidate"]?["kind"] == "throughput")!["test"]!;
        foreach (JsonNode? pair in pairs)
        {
            if ((string?)pair!["candidate"]?["kind"] == "latency")
            {
                JsonObject extra = pair["candidate"]!["extra"] as JsonObject ?? [];
                extra["clock_tick_ns"] = 10.0;
                pair["candidate"]!["extra"] = extra;
            }
        }

        string mixed = Path.Combine(Path.GetTempPath(), $"uintripc-ab-mixed-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(mixed, report.ToJsonString());
            string flagged = AbTable(mixed);
            string plain = AbTable(RepositoryFiles.Path("docs", "results", "ab.json"));

            Assert.Contains("computed by different methods", flagged, StringComparison.Ordinal);
            Assert.Contains($"`{latencyTest}`", flagged, StringComparison.Ordinal);
            Assert.DoesNotContain($"`{throughputTest}`", flagged, StringComparison.Ordinal); // the table names tests without backticks
            Assert.DoesNotContain("computed by different methods", plain, StringComparison.Ordinal); // one method on both sides
        }
        finally
        {
            File.Delete(mixed);
        }
    }

    private static string AbTable(string abJson)
    {
        string harness = Path.Combine(RepositoryFiles.Path("bench", "UintrIpc.Bench", "bin", RepositoryFiles.Configuration), "net10.0", "UintrIpc.Bench.dll");
        var run = ExternalProgram.Run(ExternalProgram.StartInfo("dotnet", harness, "--ab-report", abJson));
        Assert.True(run.ExitCode == 0, run.ToString());
        return run.StandardOutput;
    }
}
