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

    /// <summary>Writes <paramref name="results"/> as a results.json of <paramref name="mode"/> and returns the report.md the harness rebuilds from it.</summary>
    public static string ReportFrom(string mode, IEnumerable<Dictionary<string, object?>> results)
    {
        var folder = Directory.CreateTempSubdirectory("uintripc-report-from-");
        try
        {
            string file = Path.Combine(folder.FullName, "results.json");
            var run = new Dictionary<string, object?>
            {
                ["mode"] = mode, ["command"] = "made up by a test",
                ["started"] = "2026-12-04T20:00:00+00:00", ["finished"] = "2026-12-04T20:05:00+00:00",
                ["machine"] = new Dictionary<string, object?>
                {
                    ["cpu_model"] = "test", ["cpus"] = 2, ["uname"] = "test", ["lscpu"] = "", ["runtime"] = "test", ["os"] = "test",
                    ["load_average_before"] = "0", ["load_average_after"] = "0", ["tiered_compilation"] = true, ["tiered_pgo"] = true,
                },
                ["native_commands"] = Array.Empty<string>(), ["doorbells"] = Array.Empty<object>(), ["results"] = results.ToList(),
                ["settings"] = new Dictionary<string, string> { ["Pinned"] = "yes" },
            };
            File.WriteAllText(file, JsonSerializer.Serialize(run));
            return HarnessRun.Report(TimeSpan.FromSeconds(60), "--report-from", file, "--no-plots");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static List<JsonElement> ReadResults(string output)
    {
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        return report.RootElement.GetProperty("results").EnumerateArray().Select(r => r.Clone()).ToList();
    }

    /// <summary>Runs the harness with <paramref name="arguments"/> alone (a mode that measures nothing, e.g. --check-docs); asserts exit 0 and returns its standard output.</summary>
    public static string Output(TimeSpan timeout, params string[] arguments)
    {
        using var harnessProcess = PeerProcess.StartProgram(null, Harness(), [], null, arguments[0], arguments[1..]);
        int exitCode = harnessProcess.WaitForExitWhileProgressing(timeout);
        Assert.True(exitCode == 0, $"exit {exitCode}\nstdout:\n{harnessProcess.StandardOutput}\nstderr:\n{harnessProcess.StandardError}");
        return harnessProcess.StandardOutput;
    }

    private static string Harness()
    {
        string harness = Path.Combine(RepositoryFiles.Path("bench", "UintrIpc.Bench", "bin", RepositoryFiles.Configuration), "net10.0", "UintrIpc.Bench.dll");
        Assert.True(File.Exists(harness), $"{harness} is not built (the test project builds bench/UintrIpc.Bench).");
        return harness;
    }

    /// <summary>
    /// Runs the harness (dotnet runs the dll in its own process: the process id is the harness's) and
    /// reads its output folder. <paramref name="timeout"/> bounds the time without a line of progress
    /// (the harness prints one per test), not the whole run.
    /// </summary>
    private static T Run<T>(TimeSpan timeout, string[] arguments, Func<string, int, T> read)
    {
        string harness = Harness();
        var output = Directory.CreateTempSubdirectory("uintripc-harness-");
        try
        {
            string[] all = [.. arguments, "--out", output.FullName];
            using var harnessProcess = PeerProcess.StartProgram(null, harness, [], null, all[0], all[1..]);
            int exitCode = harnessProcess.WaitForExitWhileProgressing(timeout);
            Assert.True(exitCode == 0, $"exit {exitCode}\nstdout:\n{harnessProcess.StandardOutput}\nstderr:\n{harnessProcess.StandardError}");
            return read(output.FullName, harnessProcess.Pid);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
