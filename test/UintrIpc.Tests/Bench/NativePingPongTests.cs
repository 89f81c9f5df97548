using System.Globalization;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// The C spinning ping-pongs the targets divide by (one line, two lines, two slot rings, the duplex part) echo
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
        var counts = HarnessRun.NativeCounts("latency", TimeSpan.FromSeconds(120), "--only", "spin,rotating,twolines,slotring,duplex", "--iters", RoundTrips.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(
            new Dictionary<string, long> { ["c-spin-cacheline"] = RoundTrips, ["c-spin-rotating"] = RoundTrips, ["c-spin-twolines"] = RoundTrips, ["c-slotring-pingpong"] = RoundTrips, ["c-duplex-pingpong"] = RoundTrips },
            counts);
    }
}
