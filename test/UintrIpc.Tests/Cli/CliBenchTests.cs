using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Cli;

/// <summary>`uintr-ipc bench`: runs the harness of a source tree, or explains where it is.</summary>
[Collection(CrossProcessCollection.Name)]
public sealed class CliBenchTests
{
    [Fact]
    public void Bench_in_the_repository_runs_the_harness_with_the_given_options()
    {
        string root = RepositoryFiles.Root;
        var psi = CliTool.StartInfo(["bench", "--dry-run", "--", "--only", "latency"]);
        psi.WorkingDirectory = RepositoryFiles.Path("docs");
        var result = ExternalProgram.Run(psi);
        Assert.True(result.ExitCode == 0, result.ToString());
        string harness = Path.Combine(root.TrimEnd('/'), "bench", "UintrIpc.Bench", "UintrIpc.Bench.csproj");
        Assert.Equal($"cd {root.TrimEnd('/')} && dotnet run -c Release --project {harness} -- --only latency", result.StandardOutput.Trim());
    }

    [Fact]
    public void Bench_outside_a_source_tree_exits_3_and_says_where_the_harness_is()
    {
        var elsewhere = Directory.CreateTempSubdirectory("uintripc-cli-");
        try
        {
            var psi = CliTool.StartInfo(["bench"]);
            psi.WorkingDirectory = elsewhere.FullName;
            var result = ExternalProgram.Run(psi);
            Assert.Equal(3, result.ExitCode);
            Assert.Contains("no UintrIpc source tree", result.StandardError, StringComparison.Ordinal);
            Assert.Contains("clone", result.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            elsewhere.Delete(recursive: true);
        }
    }
}
