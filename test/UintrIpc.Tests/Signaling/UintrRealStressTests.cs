using System.Diagnostics;
using System.Numerics;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// Hardware user interrupts under stress: interrupts landing on JIT-compiled code while the
/// GC runs, and the lost-wake-up window of uintr_wait with a sender that fires with no delay.
/// Exact counts; every wait bounded.
/// </summary>
[Trait(RealUintr.TraitName, RealUintr.TraitValue)]
[Collection(Infrastructure.CrossProcessCollection.Name)] // alone on the machine: they measure counts under load
public sealed class UintrRealStressTests(ITestOutputHelper output)
{
    [Fact]
    public void Interrupts_on_managed_code_under_GC_pressure_corrupt_no_result_and_lose_no_notification()
    {
        RealUintr.SkipUnlessAvailable();
        const int Interrupts = 500;
        double[] data = Enumerable.Range(1, 256).Select(i => i * 0.37).ToArray();
        double expected = Compute(data); // before any receiver exists
        using var published = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        long taken = 0, checks = 0, wrong = 0;
        bool stop = false;

        // The receiving thread computes with vector registers and allocates while interrupts land on it.
        var worker = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 33);
            receiver = r;
            published.Set();
            while (Volatile.Read(ref taken) < Interrupts && !Volatile.Read(ref stop))
            {
                double[] copy = (double[])data.Clone(); // allocation on the interrupted thread
                if (BitConverter.DoubleToInt64Bits(Compute(copy)) != BitConverter.DoubleToInt64Bits(expected))
                {
                    wrong++;
                }

                checks++;
                if (r.Poll() != 0)
                {
                    Volatile.Write(ref taken, taken + 1); // release: the sender sends the next one
                }
            }
        });

        var collector = new TestThread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                _ = new byte[64 * 1024];
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                Thread.Sleep(5);
            }
        }, "GC pressure");

        try
        {
            Assert.True(published.Wait(UintrTestThread.Timeout));
            using var sender = new UintrDoorbellSender(receiver!.VectorFd);
            for (int i = 0; i < Interrupts; i++)
            {
                // One interrupt in flight at a time: a lost one stalls here and fails the wait
                // (60 s since the previous one was taken: measured from the last progress).
                TestWait.SpinUntil(() => Volatile.Read(ref taken) == i || !worker.IsAlive, $"interrupt {i} to be taken (taken {Volatile.Read(ref taken)})", TimeSpan.FromSeconds(60));
                Assert.True(worker.IsAlive || Volatile.Read(ref taken) == i);
                sender.Ring();
            }

            worker.Join();
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
            worker.Join();
        }

        output.WriteLine($"{Interrupts} interrupts taken, {checks} result checks, {wrong} wrong, {GC.CollectionCount(2)} gen-2 collections in this process");
        Assert.Equal(Interrupts, taken);
        Assert.Equal(0, wrong);
        Assert.True(checks >= Interrupts);
    }

    [Fact]
    public void Tight_send_wait_rounds_pay_at_most_one_short_slice_for_an_interrupt_lost_in_the_wait_window()
    {
        RealUintr.SkipUnlessAvailable();
        const int Rounds = 3000;
        // The default MaxParkTime of a channel: what a lost interrupt cost before the sliced waits.
        var park = TimeSpan.FromMilliseconds(100);
        using var published = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        int armed = -1;
        var durations = new double[Rounds];
        var rang = new long[Rounds];
        var returned = new long[Rounds];
        var timedOut = new bool[Rounds];
        var sent = new long[Rounds];
        Shim.UintrReceiverStats stats = default;

        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 40);
            receiver = r;
            published.Set();
            for (int i = 0; i < Rounds; i++)
            {
                long start = Stopwatch.GetTimestamp();
                Volatile.Write(ref armed, i); // the sender fires as soon as it sees this
                timedOut[i] = r.WaitForVectors(park) == 0;
                returned[i] = Stopwatch.GetTimestamp();
                durations[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            stats = r.WaitStatistics();
        });

        Assert.True(published.Wait(UintrTestThread.Timeout));
        using (var sender = new UintrDoorbellSender(receiver!.VectorFd))
        {
            for (int i = 0; i < Rounds; i++)
            {
                TestWait.SpinUntil(() => Volatile.Read(ref armed) >= i || !thread.IsAlive, $"round {i}");
                rang[i] = Stopwatch.GetTimestamp();
                sender.Ring(); // no delay: this is what races with the wait's entry
                sent[i] = Stopwatch.GetTimestamp();
            }
        }

        thread.Join();
        var sorted = durations.Order().ToArray();
        var afterRing = rang.Zip(returned, (a, b) => Math.Max(0, b - a) * 1000.0 / Stopwatch.Frequency).Order().ToArray();
        output.WriteLine(
            $"{Rounds} rounds: waits max {sorted[^1]:F3} ms, p99.9 {sorted[(int)(Rounds * 0.999)]:F3} ms, p99 {sorted[(int)(Rounds * 0.99)]:F3} ms, " +
            $"median {sorted[Rounds / 2]:F3} ms, over 1 ms: {durations.Count(d => d > 1)}, over 10 ms: {durations.Count(d => d > 10)}");
        output.WriteLine(
            $"from the ring to the wait's return: max {afterRing[^1]:F3} ms, p99.9 {afterRing[(int)(Rounds * 0.999)]:F3} ms, p99 {afterRing[(int)(Rounds * 0.99)]:F3} ms, median {afterRing[Rounds / 2]:F3} ms " +
            "(emulated timings: they show the bound, not hardware latency)");
        output.WriteLine(
            $"shim: {stats.Waits} waits, {stats.WaitSyscalls} uintr_wait slices, {stats.SlicesExpired} expired, " +
            $"{stats.LateWakeups} late wake-ups (interrupt lost in the window), worst slice paid {stats.LateMaxSliceNanoseconds / 1e6:F3} ms " +
            $"(first slice {Shim.UintrFirstSliceNanoseconds / 1e6:F3} ms)");

        // A wait that ran out before its interrupt was even sent (the sender thread descheduled
        // for the whole park on a loaded host; the interrupt then ends the next wait at once) is
        // the clock's fault; a wait that ran out after it was sent is a lost interrupt.
        int senderLate = Enumerable.Range(0, Rounds).Count(i => timedOut[i] && sent[i] > returned[i]);
        int lost = Enumerable.Range(0, Rounds).Count(i => timedOut[i] && sent[i] <= returned[i]);
        output.WriteLine($"waits that ran out: {lost} after their interrupt was sent, {senderLate} before it was sent (sender descheduled)");
        Assert.Equal(0, lost); // every round whose interrupt was sent in time ended by it
        Assert.Equal((ulong)Rounds, stats.Waits);
        // A lost interrupt waits for the end of the slice it was lost in: at most the longest
        // slice (3.2 ms), never the park time (100 ms) as before the sliced waits.
        Assert.True(stats.LateMaxSliceNanoseconds <= (ulong)Shim.UintrMaxSliceNanoseconds,
            $"a lost interrupt cost a slice of {stats.LateMaxSliceNanoseconds / 1e6:F3} ms");
    }

    /// <summary>Deterministic arithmetic that uses vector registers and Math calls (what a handler that touched them would corrupt).</summary>
    private static double Compute(double[] values)
    {
        var sum = Vector<double>.Zero;
        int i = 0;
        for (; i <= values.Length - Vector<double>.Count; i += Vector<double>.Count)
        {
            var v = new Vector<double>(values, i);
            sum += Vector.SquareRoot(v * v + new Vector<double>(1.5));
        }

        double total = Vector.Sum(sum);
        for (; i < values.Length; i++)
        {
            total += Math.Sqrt((values[i] * values[i]) + 1.5);
        }

        return total + Math.Sin(total) + Math.Log(total);
    }
}
