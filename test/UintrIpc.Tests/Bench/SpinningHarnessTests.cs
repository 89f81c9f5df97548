using System.Globalization;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// The harness's spinning ring round trips (two slot rings, and the two rings of one duplex part)
/// echo every value: the pinger compares each reply with what it sent and fails the row otherwise,
/// so the exact sample count proves every round trip was a real echo through the library's rings.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class SpinningHarnessTests
{
    private const int RoundTrips = 20_000;

    [Fact]
    public void Spinning_ring_round_trips_echo_every_value()
    {
        string[] tests = ["net-slotring-spin", "net-duplex-spin"];
        var results = HarnessRun.Results(TimeSpan.FromSeconds(240), "--only", string.Join(',', tests.Select(t => "=" + t)), "--no-native", "--no-plots", "--no-pin", "--repeat", "1",
            "--iters", RoundTrips.ToString(CultureInfo.InvariantCulture), "--warmup-ms", "50");
        Assert.Equal(tests.Order(), results.Keys.Order());
        foreach (var (name, row) in results)
        {
            Assert.True(row.GetProperty("ok").GetBoolean(), $"{name}: {row}");
            Assert.Equal(RoundTrips, row.GetProperty("count").GetInt64());
        }
    }

    /// <summary>
    /// The channel-level row (IpcDuplexChannel through the bootstrap pair, TryWrite + spinning
    /// TryRead) echoes every value, and runs its rings-alone companion next to it, which echoes
    /// every value too: both rows the target pairs.
    /// </summary>
    [Fact]
    public void Duplex_channel_round_trips_echo_every_value_next_to_the_rings_alone()
    {
        var results = HarnessRun.Results(TimeSpan.FromSeconds(240), "--only", "=net-duplex-channel-spin", "--no-native", "--no-plots", "--no-pin", "--repeat", "1",
            "--iters", RoundTrips.ToString(CultureInfo.InvariantCulture), "--warmup-ms", "50");
        Assert.Equal(["net-duplex-channel-spin", "net-duplex-spin"], results.Keys.Order());
        foreach (var (name, row) in results)
        {
            Assert.True(row.GetProperty("ok").GetBoolean(), $"{name}: {row}");
            Assert.Equal(RoundTrips, row.GetProperty("count").GetInt64());
        }

        Assert.Equal("net-duplex-channel-spin", results["net-duplex-spin"].GetProperty("paired_with").GetString());
    }
}
