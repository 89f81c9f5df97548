using System.Diagnostics;
using System.Globalization;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A consumer blocked in a read must not burn CPU: after its short spin and yield budgets it
/// sleeps in the doorbell, waking only every MaxParkTime (100 ms by default) to re-check. The
/// bound is on CPU time against wall time (10%), which a loaded machine can only lower, not on speed.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ChannelCpuTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Blocked = TimeSpan.FromSeconds(2);

    public static TheoryData<bool, DoorbellKind> Kinds => new()
    {
        { false, DoorbellKind.Futex },
        { false, DoorbellKind.EventFd },
        { false, DoorbellKind.Signal },
        { false, DoorbellKind.UintrSimulated },
        { true, DoorbellKind.Futex },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_consumer_blocked_in_Read_for_two_seconds_uses_almost_no_cpu(bool messages, DoorbellKind doorbell)
    {
        Assert.SkipUnless(Doorbells.IsAvailable(doorbell), Doorbells.Check(doorbell).ToString());
        TimeSpan cpu = default, wall = default;
        WaitBlockCounters counters = default;
        new TestThread(() =>
        {
            using var c = ChannelUnderTest.Create(messages, doorbell, multipleProducers: false, capacity: 16);
            var cpu0 = TestWait.ThreadCpuTime();
            long start = Stopwatch.GetTimestamp();
            Assert.False(c.TryRead(out _, Blocked)); // nothing is ever written
            wall = Stopwatch.GetElapsedTime(start);
            cpu = TestWait.ThreadCpuTime() - cpu0;
            counters = c.Counters;
        }, "consumer").Join();

        output.WriteLine($"{doorbell}: cpu {cpu.TotalMilliseconds:F2} ms over {wall.TotalMilliseconds:F0} ms; {counters}");
        Assert.True(wall >= Blocked);
        Assert.True(counters.Sleeps > 0);
        Assert.True(cpu < wall * 0.1, $"{cpu.TotalMilliseconds} ms of CPU in {wall.TotalMilliseconds} ms blocked");
    }

    [Fact]
    public void A_pending_async_read_keeps_its_waiter_thread_asleep()
    {
        using var c = ChannelUnderTest.Create(messages: false, DoorbellKind.Futex, multipleProducers: false, capacity: 16);
        ValueTask<long> read = c.ReadAsync();
        TestWait.Until(() => c.WaitBlock.IsConsumerSleeping, "the waiter thread to park");
        int tid = FindThread("UintrIpc channe"); // comm is cut to 15 characters
        long ticks0 = ThreadTicks(tid);
        long start = Stopwatch.GetTimestamp();
        Thread.Sleep(Blocked);
        var wall = Stopwatch.GetElapsedTime(start);
        double cpuMs = (ThreadTicks(tid) - ticks0) * 1000.0 / 100; // USER_HZ = 100
        output.WriteLine($"waiter thread {tid}: cpu {cpuMs} ms over {wall.TotalMilliseconds:F0} ms; {c.Counters}");
        Assert.False(read.IsCompleted);
        Assert.True(cpuMs < wall.TotalMilliseconds * 0.1, $"{cpuMs} ms of CPU in {wall.TotalMilliseconds} ms");

        Assert.True(c.TryWrite(1));
#pragma warning disable xUnit1031 // deliberately synchronous: the consumer belongs to this thread
        Assert.Equal(1, read.AsTask().WaitAsync(TestWait.Long).GetAwaiter().GetResult());
#pragma warning restore xUnit1031
        c.Dispose();
    }

    private static int FindThread(string comm)
    {
        foreach (string dir in Directory.GetDirectories("/proc/self/task"))
        {
            if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == comm)
            {
                return int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no thread named '{comm}'");
    }

    /// <summary>utime + stime of a thread of this process, in clock ticks (/proc/self/task/tid/stat fields 14 and 15).</summary>
    private static long ThreadTicks(int tid)
    {
        string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state), so field 14 is fields[11].
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}
