using System.Globalization;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// The harness's sleeping round trips are woken by their doorbell, not by the park timeout: a
/// sender that refuses its target (the signal sender needs the consumer's pidfd) leaves every
/// message to the 100 ms timeout, which once made these rows fail in the published report.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DoorbellHarnessTests
{
    private const int RoundTrips = 300;

    [Fact]
    public void Sleeping_round_trips_are_woken_by_each_doorbell()
    {
        string[] tests = ["net-futex-asleep", "net-eventfd-asleep", "net-signal-asleep"];
        var results = HarnessRun.Results(TimeSpan.FromSeconds(240), "--only", string.Join(',', tests.Select(t => "=" + t)), "--no-native", "--no-plots", "--no-pin", "--repeat", "1",
            "--sleep-iters", RoundTrips.ToString(CultureInfo.InvariantCulture), "--warmup-ms", "50");
        Assert.Equal(tests.Order(), results.Keys.Order());
        foreach (var (name, row) in results)
        {
            Assert.True(row.GetProperty("ok").GetBoolean(), $"{name}: {row}");
            Assert.Equal(RoundTrips, row.GetProperty("count").GetInt64());
            // Every message should find its consumer asleep and wake it; a park that times out is
            // a wake-up that never came (allow a few for a loaded machine, not one per message).
            double timeouts = row.GetProperty("extra").GetProperty("park_timeouts").GetDouble();
            Assert.True(timeouts <= RoundTrips / 50, $"{name}: {timeouts} park timeouts in {RoundTrips} round trips");
            Assert.True(row.GetProperty("wakes_per_msg").GetDouble() > 0.5, $"{name}: {row.GetProperty("wakes_per_msg")} wake-ups per message");
        }
    }
}
