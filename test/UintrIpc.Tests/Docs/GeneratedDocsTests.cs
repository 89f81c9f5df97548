using UintrIpc.Tests.Bench;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Docs;

/// <summary>
/// The benchmark pages' generated sections are exactly what the harness renders from the files
/// committed beside them (docs/results/*.json for benchmarks.md, docs/benchmarks-native-data/ for
/// benchmarks-native.md): the harness's --check-docs, which .ci/run runs too, here so that the
/// Docs tests fail on a hand-edited or stale number.
/// </summary>
public sealed class GeneratedDocsTests
{
    [Theory]
    [InlineData("benchmarks.md", 4)]         // quick, sweep, rpc, ab
    [InlineData("benchmarks-native.md", 1)]  // native-baselines
    public void Every_generated_section_is_what_its_committed_results_file_generates(string page, int sections)
    {
        string file = RepositoryFiles.Path("docs", page);
        string output = HarnessRun.Output(TimeSpan.FromSeconds(120), "--check-docs", file);
        Assert.Contains($"{sections} generated section(s) of {file} checked against their results files, 0 differ", output, StringComparison.Ordinal);
    }
}
