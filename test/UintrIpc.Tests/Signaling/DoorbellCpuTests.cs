using System.Diagnostics;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// A consumer blocked in a doorbell must not burn CPU. Measured as the blocked thread's own
/// CPU time (CLOCK_THREAD_CPUTIME_ID) against the wall time it spent: a CPU-time bound, which
/// a loaded machine can only make smaller, not a speed threshold.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DoorbellCpuTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Blocked = TimeSpan.FromSeconds(2);

    public static TheoryData<DoorbellKind> BlockingKinds => [DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.Signal];

    [Theory]
    [MemberData(nameof(BlockingKinds))]
    public void A_receiver_blocked_for_two_seconds_uses_almost_no_cpu(DoorbellKind kind)
    {
        using var f = new WaitBlockRegion();
        TimeSpan cpu = default, wall = default;
        bool woken = true;

        new TestThread(() =>
        {
            using var receiver = Doorbells.CreateReceiver(kind, f.Block);
            uint token = receiver.PrepareToWait();
            var cpu0 = TestWait.ThreadCpuTime();
            long start = Stopwatch.GetTimestamp();
            woken = receiver.Wait(token, Blocked);
            wall = Stopwatch.GetElapsedTime(start);
            cpu = TestWait.ThreadCpuTime() - cpu0;
        }, "consumer").Join();

        output.WriteLine($"{kind}: cpu {cpu.TotalMilliseconds:F3} ms over {wall.TotalMilliseconds:F0} ms");
        Assert.False(woken);
        Assert.True(cpu < wall * 0.1, $"{kind}: {cpu.TotalMilliseconds} ms of CPU in {wall.TotalMilliseconds} ms blocked");
    }

    [Fact]
    public void An_idle_consumer_in_the_doorbell_backoff_uses_almost_no_cpu()
    {
        // Spins and yields for its budgets once, then parks (100 ms bounded parks) until the end.
        using var f = new WaitBlockRegion();
        using var receiver = new FutexDoorbellReceiver(f.Block);
        var counter = new MessageCounter();
        TimeSpan cpu = default, wall = default;
        long parks = 0;

        new TestThread(() =>
        {
            var idle = new BackoffIdleStrategy<CounterProbe>(new CounterProbe(counter), f.Block, receiver);
            var cpu0 = TestWait.ThreadCpuTime();
            long start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(start) < Blocked)
            {
                idle.Idle((int)counter.ConsumeAll());
            }

            wall = Stopwatch.GetElapsedTime(start);
            cpu = TestWait.ThreadCpuTime() - cpu0;
            parks = idle.Parks;
        }, "consumer").Join();

        output.WriteLine($"backoff: cpu {cpu.TotalMilliseconds:F3} ms over {wall.TotalMilliseconds:F0} ms, {parks} parks, {f.Block.ReadCounters()}");
        Assert.True(parks > 0);
        Assert.True(cpu < wall * 0.1, $"{cpu.TotalMilliseconds} ms of CPU in {wall.TotalMilliseconds} ms idle");
    }
}
