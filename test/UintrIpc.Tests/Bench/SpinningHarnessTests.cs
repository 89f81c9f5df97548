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

    /// <summary>
    /// With C baselines, each spinning round trip runs in --floor-segments segments next to C runs
    /// of each segment's share: the echoer holds while C runs and counts exactly the measured round
    /// trips (a miscount fails the row), and every C test of a pair reports one result per segment.
    /// </summary>
    [Fact]
    public void Interleaved_round_trips_hold_for_each_C_segment_and_count_exactly_the_measured_round_trips()
    {
        const int Segments = 3, Iters = 3001; // segments of 1001, 1000 and 1000 round trips
        string[] tests = ["net-spin-cacheline", "net-duplex-spin", "net-duplex-channel-spin"];
        var results = HarnessRun.AllResults(TimeSpan.FromSeconds(400), "--only", string.Join(',', tests.Select(t => "=" + t)), "--no-plots", "--no-pin", "--repeat", "2",
            "--floor-segments", Segments.ToString(CultureInfo.InvariantCulture), "--iters", Iters.ToString(CultureInfo.InvariantCulture), "--warmup-ms", "50");
        foreach (string test in tests)
        {
            var net = results.Where(r => r.GetProperty("name").GetString() == test && !r.TryGetProperty("paired_with", out _)).ToList();
            Assert.Equal([1, 2], net.Select(r => r.GetProperty("repetition").GetInt32()));
            foreach (var row in net)
            {
                Assert.True(row.GetProperty("ok").GetBoolean(), $"{test}: {row}");
                Assert.Equal(Iters, row.GetProperty("count").GetInt64());
                Assert.Equal(Segments, row.GetProperty("segments").GetArrayLength());
            }

            var c = results.Where(r => r.GetProperty("implementation").GetString() == "c" && r.TryGetProperty("paired_with", out var p) && p.GetString() == test).ToList();
            Assert.NotEmpty(c);
            foreach (var row in c)
            {
                Assert.True(row.GetProperty("ok").GetBoolean(), $"{test}: {row}");
                Assert.Equal(Segments, row.GetProperty("segments").GetArrayLength());
                Assert.Contains(row.GetProperty("count").GetInt64(), new long[] { 1000, 1001 });
            }

            Assert.Equal(2 * c.Select(r => r.GetProperty("name").GetString()).Distinct().Count(), c.Count);
        }
    }
}
