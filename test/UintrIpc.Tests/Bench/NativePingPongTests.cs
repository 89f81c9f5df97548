using System.Globalization;
using System.Text.Json;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// The C spinning ping-pongs the targets divide by (one line, two lines, two slot rings) echo
/// every value: the parent compares each reply with what it sent and fails the test run
/// otherwise, so the exact sample count proves every round trip was a real echo.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class NativePingPongTests
{
    private const int RoundTrips = 20_000;

    [Fact]
    public void C_spinning_ping_pongs_echo_every_value()
    {
        string native = RepositoryFiles.Path("bench", "native", "build", "uintripc-native-bench");
        Assert.True(File.Exists(native), $"{native} is not built (the test project builds bench/UintrIpc.Bench, whose build runs make in bench/native).");
        var result = ExternalProgram.Run(ExternalProgram.StartInfo(native,
            "--only", "spin,twolines,slotring", "--iters", RoundTrips.ToString(CultureInfo.InvariantCulture)), TimeSpan.FromSeconds(120));
        Assert.True(result.ExitCode == 0, result.ToString());
        var counts = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("kind").GetString() == "latency")
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("count").GetInt64());
        Assert.Equal(
            new Dictionary<string, long> { ["c-spin-cacheline"] = RoundTrips, ["c-spin-twolines"] = RoundTrips, ["c-slotring-pingpong"] = RoundTrips },
            counts);
    }
}
