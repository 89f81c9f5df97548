using UintrIpc.Bench.Workloads;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// The throughput loops' idle step (Spin.Backoff, mirrored by idle_step in bench/native/src/throughput.c):
/// pauses double per empty poll of one wait up to the cap, and a wait past its deadline ends within
/// one check interval, so a harness that waits longer per poll still never hangs.
/// </summary>
public sealed class SpinBackoffTests
{
    [Fact]
    public void Pauses_double_per_empty_poll_up_to_32_and_stay_there()
    {
        int[] expected = [1, 2, 4, 8, 16, 32, 32, 32];
        Assert.Equal(expected, Enumerable.Range(0, expected.Length).Select(Spin.PausesAt));
        Assert.Equal(32, Spin.PausesAt(1_000_000));
        Assert.Equal(32, Spin.PausesAt(int.MaxValue));
        Assert.Equal(32, Spin.PausesAt(-1)); // past int.MaxValue polls: still the cap, not a shift by a negative count
    }

    [Fact]
    public void A_wait_past_its_deadline_ends_at_its_32nd_poll()
    {
        var passed = Deadline.FromTicks(0);
        int polls = 0;
        for (int i = 1; i < 32; i++)
        {
            Spin.Backoff(ref polls, passed, "nothing");
            Assert.Equal(i, polls);
        }

        var e = Assert.Throws<TimeoutException>(() => Spin.Backoff(ref polls, passed, "the test's message"));
        Assert.Equal("timed out waiting for the test's message", e.Message);
    }

    [Fact]
    public void A_wait_before_its_deadline_goes_on_past_the_check()
    {
        var later = new Deadline(TimeSpan.FromMinutes(10));
        int polls = 0;
        for (int i = 0; i < 100; i++)
        {
            Spin.Backoff(ref polls, later, "nothing");
        }

        Assert.Equal(100, polls);
    }
}
