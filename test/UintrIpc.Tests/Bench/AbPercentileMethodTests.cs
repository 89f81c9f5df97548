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
        // The committed A/B's pairs, its latency rows given one method on both sides (plain: both
        // record the step) or two (mixed: the baseline's without, as a build from before rtt), so the
        // test holds whatever builds the committed file compared.
        string committed = File.ReadAllText(RepositoryFiles.Path("docs", "results", "ab.json"));
        JsonArray pairs = JsonNode.Parse(committed)!["pairs"]!.AsArray();
        string latencyTest = (string)pairs.First(p => (string?)p!["candidate"]?["kind"] == "latency")!["test"]!;
        string throughputTest = (string)pairs.First(p => (string?)p!["candidate"]?["kind"] == "throughput")!["test"]!;

        string flagged = AbTable(WithStep(committed, baselineStep: null));
        string plain = AbTable(WithStep(committed, baselineStep: 10.0));

        Assert.Contains("computed by different methods", flagged, StringComparison.Ordinal);
        Assert.Contains($"`{latencyTest}`", flagged, StringComparison.Ordinal);
        Assert.DoesNotContain($"`{throughputTest}`", flagged, StringComparison.Ordinal); // the table names tests without backticks
        Assert.DoesNotContain("computed by different methods", plain, StringComparison.Ordinal); // one method on both sides
    }

    /// <summary>The report with every latency row's candidate on a 10 ns step and its baseline on <paramref name="baselineStep"/> (null: nearest-rank, no step recorded).</summary>
    private static string WithStep(string abJson, double? baselineStep)
    {
        var report = JsonNode.Parse(abJson)!;
        foreach (JsonNode? pair in report["pairs"]!.AsArray())
        {
            if ((string?)pair!["candidate"]?["kind"] != "latency")
            {
                continue;
            }

            SetStep(pair["candidate"]!, 10.0);
            SetStep(pair["baseline"]!, baselineStep);
        }

        return report.ToJsonString();
    }

    private static void SetStep(JsonNode row, double? step)
    {
        JsonObject extra = row["extra"] as JsonObject ?? [];
        extra.Remove("clock_tick_ns");
        if (step is double value)
        {
            extra["clock_tick_ns"] = value;
        }

        row["extra"] = extra;
    }

    private static string AbTable(string json)
    {
        string file = Path.Combine(Path.GetTempPath(), $"uintripc-ab-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(file, json);
            return AbReport(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string AbReport(string abJson)
    {
        string harness = Path.Combine(RepositoryFiles.Path("bench", "UintrIpc.Bench", "bin", RepositoryFiles.Configuration), "net10.0", "UintrIpc.Bench.dll");
        var run = ExternalProgram.Run(ExternalProgram.StartInfo("dotnet", harness, "--ab-report", abJson));
        Assert.True(run.ExitCode == 0, run.ToString());
        return run.StandardOutput;
    }
}
