using System.Text.Json;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>Runs the benchmark harness (bench/UintrIpc.Bench, built with the tests) and reads its results.json.</summary>
internal static class HarnessRun
{
    /// <summary>Runs the harness with <paramref name="arguments"/> plus --out; returns each result row by name.</summary>
    public static Dictionary<string, JsonElement> Results(TimeSpan timeout, params string[] arguments)
    {
        string harness = Path.Combine(RepositoryFiles.Path("bench", "UintrIpc.Bench", "bin", RepositoryFiles.Configuration), "net10.0", "UintrIpc.Bench.dll");
        Assert.True(File.Exists(harness), $"{harness} is not built (the test project builds bench/UintrIpc.Bench).");
        var output = Directory.CreateTempSubdirectory("uintripc-harness-");
        try
        {
            var result = ExternalProgram.Run(ExternalProgram.StartInfo("dotnet", [harness, .. arguments, "--out", output.FullName]), timeout);
            Assert.True(result.ExitCode == 0, result.ToString());
            using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output.FullName, "results.json")));
            return report.RootElement.GetProperty("results").EnumerateArray()
                .ToDictionary(r => r.GetProperty("name").GetString()!, r => r.Clone());
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
