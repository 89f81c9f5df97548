using System.Text.Json;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>Runs the benchmark harness (bench/UintrIpc.Bench, built with the tests) or its C baselines, and reads what they report.</summary>
internal static class HarnessRun
{
    /// <summary>Runs bench/native's program with <paramref name="arguments"/>; returns the count of each test of <paramref name="kind"/> by name.</summary>
    public static Dictionary<string, long> NativeCounts(string kind, TimeSpan timeout, params string[] arguments)
    {
        string native = RepositoryFiles.Path("bench", "native", "build", "uintripc-native-bench");
        Assert.True(File.Exists(native), $"{native} is not built (the test project builds bench/UintrIpc.Bench, whose build runs make in bench/native).");
        var result = ExternalProgram.Run(ExternalProgram.StartInfo(native, arguments), timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("kind").GetString() == kind)
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("count").GetInt64());
    }

    /// <summary>Runs the harness with <paramref name="arguments"/> plus --out; returns each result row by name.</summary>
    public static Dictionary<string, JsonElement> Results(TimeSpan timeout, params string[] arguments) =>
        AllResults(timeout, arguments).ToDictionary(r => r.GetProperty("name").GetString()!, r => r);

    /// <summary>Runs the harness with <paramref name="arguments"/> plus --out; returns every result row of results.json, in run order.</summary>
    public static List<JsonElement> AllResults(TimeSpan timeout, params string[] arguments) =>
        Run(timeout, arguments, (output, _) => ReadResults(output));

    /// <summary>As <see cref="Results"/>, with the process id the harness ran as.</summary>
    public static (Dictionary<string, JsonElement> Rows, int HarnessPid) ResultsWithPid(TimeSpan timeout, params string[] arguments) =>
        Run(timeout, arguments, (output, pid) => (ReadResults(output).ToDictionary(r => r.GetProperty("name").GetString()!, r => r), pid));

    /// <summary>Runs the harness with <paramref name="arguments"/> plus --out; returns the report.md it wrote.</summary>
    public static string Report(TimeSpan timeout, params string[] arguments) =>
        Run(timeout, arguments, (output, _) => File.ReadAllText(Path.Combine(output, "report.md")));

    private static List<JsonElement> ReadResults(string output)
    {
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        return report.RootElement.GetProperty("results").EnumerateArray().Select(r => r.Clone()).ToList();
    }

    /// <summary>Runs the harness (dotnet runs the dll in its own process: the process id is the harness's) and reads its output folder.</summary>
    private static T Run<T>(TimeSpan timeout, string[] arguments, Func<string, int, T> read)
    {
        string harness = Path.Combine(RepositoryFiles.Path("bench", "UintrIpc.Bench", "bin", RepositoryFiles.Configuration), "net10.0", "UintrIpc.Bench.dll");
        Assert.True(File.Exists(harness), $"{harness} is not built (the test project builds bench/UintrIpc.Bench).");
        var output = Directory.CreateTempSubdirectory("uintripc-harness-");
        try
        {
            using var process = ExternalProgram.Start(ExternalProgram.StartInfo("dotnet", [harness, .. arguments, "--out", output.FullName]));
            int pid = process.Id;
            var result = ExternalProgram.Finish(process, timeout);
            Assert.True(result.ExitCode == 0, result.ToString());
            return read(output.FullName, pid);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
