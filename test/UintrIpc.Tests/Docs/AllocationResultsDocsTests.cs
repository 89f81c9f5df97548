using System.Text.RegularExpressions;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Docs;

/// <summary>
/// docs/benchmarks.md ("Allocations") says the hot paths allocate nothing and that BenchmarkDotNet's
/// MemoryDiagnoser output for the channel, ring, claim, drain and wake-protocol paths is committed in
/// docs/results/bdn/: every benchmark method of those classes (bench/UintrIpc.Benchmarks/Channels,
/// Rings and Signaling) has a row there, and every row's Allocated column is "-" (BenchmarkDotNet's 0 B).
/// </summary>
public sealed partial class AllocationResultsDocsTests
{
    /// <summary>The folders of bench/UintrIpc.Benchmarks whose classes docs/benchmarks.md says are committed.</summary>
    private static readonly string[] s_committedFolders = ["Channels", "Rings", "Signaling"];

    [Fact]
    public void The_committed_BenchmarkDotNet_output_covers_every_ring_and_wake_benchmark_and_shows_0_B_allocated()
    {
        string bdn = RepositoryFiles.Path("docs", "results", "bdn");
        var reports = Directory.EnumerateFiles(bdn, "*-report-github.md").Order(StringComparer.Ordinal).ToList();
        var allocating = new List<string>();
        var rowsByClass = new Dictionary<string, HashSet<string>>();
        foreach (string report in reports)
        {
            // UintrIpc.Benchmarks.Rings.SpscSlotRingBenchmarks_Payload8_-report-github.md: class SpscSlotRingBenchmarks.
            string type = Path.GetFileName(report).Split("-report")[0].Split('.')[^1].Split('_')[0];
            var methods = rowsByClass.TryGetValue(type, out var seen) ? seen : rowsByClass[type] = [];
            string[] header = [];
            foreach (string line in File.ReadLines(report).Where(l => l.StartsWith('|')))
            {
                string[] cells = line.Trim('|').Split('|').Select(c => c.Trim().Trim('*')).ToArray();
                if (cells[0] == "Method")
                {
                    header = cells;
                    continue;
                }

                if (cells[0].Length == 0 || cells[0].StartsWith('-'))
                {
                    continue; // BenchmarkDotNet's separator and blank rows
                }

                int allocated = Array.IndexOf(header, "Allocated");
                Assert.True(allocated >= 0, $"{report}: no Allocated column (run with MemoryDiagnoser)");
                methods.Add(cells[0]);
                if (cells[allocated] is not ("-" or "0 B"))
                {
                    allocating.Add($"{Path.GetFileName(report)}: {cells[0]} allocates {cells[allocated]}");
                }
            }
        }

        Assert.True(allocating.Count == 0, string.Join('\n', allocating));
        var missing = new List<string>();
        int benchmarks = 0;
        foreach (string source in s_committedFolders.SelectMany(d => Directory.EnumerateFiles(RepositoryFiles.Path("bench", "UintrIpc.Benchmarks", d), "*.cs")))
        {
            foreach (var (type, method) in BenchmarkMethods(File.ReadAllText(source)))
            {
                benchmarks++;
                if (!rowsByClass.TryGetValue(type, out var rows) || !rows.Contains(method))
                {
                    missing.Add($"{type}.{method} ({Path.GetFileName(source)})");
                }
            }
        }

        Assert.True(missing.Count == 0, "benchmarks without committed output in docs/results/bdn/ (run BenchmarkDotNet as docs/benchmarks.md says and commit its -report-github.md):\n" + string.Join('\n', missing));
        Assert.True(benchmarks >= 20, $"only {benchmarks} benchmark methods found: the source pattern no longer matches the benchmark classes");
    }

    /// <summary>Each [Benchmark] method of the source, with the class declared before it.</summary>
    private static IEnumerable<(string Type, string Method)> BenchmarkMethods(string source)
    {
        string? type = null;
        foreach (Match m in ClassOrBenchmark().Matches(source))
        {
            if (m.Groups["class"].Success)
            {
                type = m.Groups["class"].Value;
            }
            else if (type is not null)
            {
                yield return (type, m.Groups["method"].Value);
            }
        }
    }

    [GeneratedRegex(@"public (sealed )?class (?<class>\w+)|\[Benchmark[^\]]*\]\s*public (async )?[\w<>]+ (?<method>\w+)\(")]
    private static partial Regex ClassOrBenchmark();
}
