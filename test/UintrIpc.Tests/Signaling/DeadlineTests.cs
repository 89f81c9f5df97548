using System.Diagnostics;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// Issue 7, finding 4: deadlines at the extremes. A timeout of zero or one tick ends at once, a
/// timeout of <see cref="TimeSpan.MaxValue"/> is a wait that still ends when woken (never an
/// overflowed deadline), and an infinite one is refused wherever a timeout is taken.
/// </summary>
public sealed unsafe class DeadlineTests(ITestOutputHelper output)
{
    public static TheoryData<DoorbellKind> BlockingKinds => [DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.Signal];

    /// <summary>
    /// The shim computed monotonic + timeout in signed 64 bits: undefined behaviour for a huge
    /// timeout, which only worked because the overflow wrapped back. Built with the
    /// signed-overflow sanitizer (aborting on the first report), the shim's futex wait must
    /// take INT64_MAX and refuse a negative timeout.
    /// </summary>
    [Fact]
    public void The_shim_saturates_the_futex_deadline_instead_of_overflowing()
    {
        string? gcc = ExternalProgram.FindOnPath("gcc");
        Assert.True(gcc is not null, "gcc is required (it builds the shim too)");
        string dir = Directory.CreateTempSubdirectory("uintripc-deadline-").FullName;
        try
        {
            string driver = Path.Combine(dir, "driver.c");
            File.WriteAllText(driver, """
                #include <errno.h>
                #include <stdint.h>
                #include <stdio.h>
                #include "uintripc.h"
                int main(void)
                {
                    uint32_t word = 7;
                    /* The word does not hold 8: EAGAIN at once, after the deadline was computed. */
                    int a = UintrIpc_FutexWait(&word, 8, INT64_MAX);
                    int b = UintrIpc_FutexWait(&word, 8, INT64_MAX - 1);
                    int c = UintrIpc_FutexWait(&word, 7, 1);          /* one nanosecond: times out */
                    int d = UintrIpc_FutexWait(&word, 7, 0);          /* zero: times out at once */
                    int e = UintrIpc_FutexWait(&word, 7, -1);         /* unbounded: refused */
                    printf("%d %d %d %d %d\n", a, b, c, d, e);
                    return !(a == 1 && b == 1 && c == 2 && d == 2 && e == -EINVAL);
                }
                """);
            string exe = Path.Combine(dir, "driver");
            var build = ExternalProgram.Run(gcc, "-O2", "-std=gnu11", "-fsanitize=signed-integer-overflow", "-fno-sanitize-recover=all",
                "-I", RepositoryFiles.Path("interop", "include"), "-DUINTRIPC_BUILDING_SHIM", driver, RepositoryFiles.Path("interop", "src", "futex.c"), "-o", exe);
            Assert.True(build.ExitCode == 0, build.ToString());

            var run = ExternalProgram.Run(exe);
            output.WriteLine(run.ToString());
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.DoesNotContain("runtime error", run.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Conversions_saturate_instead_of_overflowing()
    {
        Assert.Equal(0, WaitDeadline.ToTicks(TimeSpan.Zero));
        Assert.Equal(WaitDeadline.MaxTicks, WaitDeadline.ToTicks(TimeSpan.MaxValue));
        Assert.True(WaitDeadline.ToNanoseconds(TimeSpan.MaxValue) > 0);
        Assert.True(WaitDeadline.EndAfter(TimeSpan.MaxValue) > Stopwatch.GetTimestamp());
        var far = WaitDeadline.After(TimeSpan.MaxValue);
        Assert.False(far.HasPassed);
        Assert.True(far.RemainingNanoseconds > (long)TimeSpan.FromDays(365 * 50).TotalNanoseconds);
        Assert.True(far.RemainingTimespec().tv_sec > 0);
        Assert.True(WaitDeadline.After(TimeSpan.Zero).HasPassed);
        Assert.Throws<ArgumentOutOfRangeException>(() => WaitDeadline.After(Timeout.InfiniteTimeSpan));
    }

    [Theory]
    [MemberData(nameof(BlockingKinds))]
    public void A_doorbell_wait_of_zero_or_one_tick_ends_at_once_and_an_infinite_one_is_refused(DoorbellKind kind)
    {
        using var f = new WaitBlockRegion();
        new TestThread(() =>
        {
            using var receiver = Doorbells.CreateReceiver(kind, f.Block);
            Assert.False(receiver.Wait(receiver.PrepareToWait(), TimeSpan.Zero));
            Assert.False(receiver.Wait(receiver.PrepareToWait(), TimeSpan.FromTicks(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => receiver.Wait(receiver.PrepareToWait(), Timeout.InfiniteTimeSpan));
        }, "consumer").Join();
    }

    // A doorbell wait of MaxValue that ends when rung: DoorbellTests.A_ring_wakes_a_receiver_blocked_in_the_kernel.

    [Fact]
    public void The_no_doorbell_wait_of_MaxValue_ends_after_its_slice()
    {
        using var receiver = new NoDoorbellReceiver(TimeSpan.FromMilliseconds(1));
        Assert.False(receiver.Wait(0, TimeSpan.MaxValue));
        Assert.False(receiver.Wait(0, TimeSpan.FromTicks(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => receiver.Wait(0, Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void Park_with_MaxValue_blocks_until_a_producer_wakes_it()
    {
        using var f = new WaitBlockRegion();
        var counter = new MessageCounter();
        var probe = new CounterProbe(counter);
        bool woken = false;
        var consumer = new TestThread(() =>
        {
            using var receiver = new FutexDoorbellReceiver(f.Block);
            woken = f.Block.Park(ref probe, receiver, TimeSpan.MaxValue);
        }, "consumer");

        TestWait.Until(() => f.Block.IsConsumerSleeping, "the consumer announces its sleep");
        using var sender = new FutexDoorbellSender(f.Block);
        counter.Publish();
        f.Block.WakeIfSleeping(sender);
        consumer.Join();
        Assert.True(woken);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Block.Park(ref probe, new FutexDoorbellReceiver(f.Block), Timeout.InfiniteTimeSpan));
    }
}
